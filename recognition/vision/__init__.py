"""Computer-vision core: plate detection and OCR (plain Python, no Django).

Entry points: ``recognition.vision.pipeline.get_pipeline()`` /
``build_pipeline()`` and ``recognition.vision.synth.render_vehicle_scene()``.
Heavy libraries (onnxruntime, torch) are imported by those modules only.
"""
