"""Training and making of the models the pipeline loads (see README.md here).

Needs torch and the data under ``../shared/data`` at training time only; the
run-time engine (:class:`recognition.vision.ocr.PlateCrnnOCR`) needs neither.
"""
