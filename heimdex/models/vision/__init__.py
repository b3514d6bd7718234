"""Vision adapters over packaged weights: detectors, classifiers, faces, pose, bodies, segmentation.
What a scene shows is decided from their outputs in :mod:`heimdex.perception`."""
