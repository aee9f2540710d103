"""The offline illustrator's drawing: palettes, scenery, figures, faces and hair, rasterised with OpenCV."""
