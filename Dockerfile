# The same app as `make run`, for a server: set FILROUGE_DATABASE_URL (PostgreSQL) and
# FILROUGE_SECRET_KEY. Migrations run at start.
FROM python:3.11-slim
WORKDIR /srv/filrouge
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
# WeasyPrint renders issued deliverables: Pango, HarfBuzz's subsetter and the DejaVu fonts.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
COPY requirements.lock ./
RUN pip install --no-cache-dir -r requirements.lock
COPY pyproject.toml alembic.ini ./
COPY app ./app
COPY migrations ./migrations
RUN pip install --no-cache-dir --no-deps -e . && useradd --system filrouge && mkdir var && chown filrouge var
USER filrouge
EXPOSE 8000
HEALTHCHECK CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
CMD ["filrouge", "serve", "--host", "0.0.0.0", "--port", "8000"]
