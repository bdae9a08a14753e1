"""Training of the plate-specific CRNN recogniser (``recognition/models/plate_crnn.onnx``).

Needs torch and the data under ``../shared/data`` at training time only; the
run-time engine (:class:`recognition.vision.ocr.PlateCrnnOCR`) needs neither.
"""
