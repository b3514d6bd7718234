"""Visual understanding from packaged models: objects, concepts, pose and actions,
expressions, pixel attributes; combined into scene tags by :mod:`.tags`."""
