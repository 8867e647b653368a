"""The Celery side of the product: `celery -A worker worker` and `celery -A worker beat`.

The app is configured from the environment when Celery first reads its configuration, not at import.
"""

from worker.celery_app import create_celery

app = create_celery()
