"""The server-rendered pages: sign-in, the batch wizard, the batch page and the history."""
