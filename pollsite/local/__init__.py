"""The local stack (``make run``): launcher and entry point. Development only, never in the image."""
