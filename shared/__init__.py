"""Domain and persistence shared by the web app and the worker. Imports neither Flask nor Celery."""
