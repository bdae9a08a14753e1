# One image for web (Daphne), worker and beat (Celery). AGPL-3.0.
FROM python:3.11-slim-bookworm

ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    ALPR_MODEL_CACHE=/app/models ALPR_VAR_DIR=/app/var
RUN apt-get update && apt-get install -y --no-install-recommends libglib2.0-0 libgomp1 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-deps -r requirements.txt
COPY . .
# The runtime set only: the models are committed files (recognition/models/); nothing here needs torch.
# ALPR_MODEL_CACHE is where a float detector made by 'python -m training.export_detector' can be mounted.
RUN DEBUG=1 python manage.py collectstatic --noinput
RUN useradd --system --uid 10001 alpr && mkdir -p /app/var /app/models && chown -R alpr /app/var /app/models
USER alpr
EXPOSE 8000
CMD ["daphne", "-b", "0.0.0.0", "-p", "8000", "config.asgi:application"]
