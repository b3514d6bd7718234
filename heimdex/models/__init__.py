"""Model registry: offline (packaged weights) and hub profiles behind one small protocol per role."""
