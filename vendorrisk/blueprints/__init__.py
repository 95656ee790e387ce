"""One blueprint package per audience; only the app factory imports them."""
