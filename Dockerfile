# The project's image: worker, API and CLI (`docker compose` runs `premium-claims <command>`).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY pyproject.toml README.md ./
# the folders the package ships, in the import map's order (tests/deploy/test_folder_list.py)
COPY domain ./domain
COPY security ./security
COPY workflows ./workflows
COPY activities ./activities
COPY gateway ./gateway
COPY config ./config
COPY client ./client
COPY worker ./worker
COPY dev ./dev
COPY api ./api
COPY cli ./cli
COPY data/sample ./data/sample
COPY data/calendar_overrides.toml ./data/calendar_overrides.toml
RUN pip install . && useradd --create-home --uid 10001 claims && mkdir /data && chown claims /data

USER claims
ENV PREMIUM_CLAIMS_DATA_DIR=/data
EXPOSE 8000 8234 9464
ENTRYPOINT ["claims"]
CMD ["worker"]
