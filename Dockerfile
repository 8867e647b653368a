# One image for every role of docker-compose.yml: migrate, web, worker and beat differ only in
# their command.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
COPY pyproject.toml README.md ./
COPY shared ./shared
COPY worker ./worker
COPY web ./web
COPY cli ./cli
# A regular (not editable) install: the processes import the installed packages, not /src.
# With Flower, for the compose profile `flower` (the same image runs it).
RUN pip install ".[flower]" && rm -rf /src/build /src/*.egg-info

RUN useradd --create-home --home-dir /home/cpb --uid 10001 --user-group cpb
USER cpb
# Writable by the non-root user: the instance folder, and beat's schedule file in the cwd.
WORKDIR /home/cpb
ENV CPB_INSTANCE_PATH=/home/cpb/instance

EXPOSE 8000
CMD ["gunicorn", "-b", "0.0.0.0:8000", "web:create_app()"]
