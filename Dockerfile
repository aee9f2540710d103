# The image the fleet runs (docker-compose.yml): gateway and workers alike.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY deepflix ./deepflix
RUN pip install ".[voice,llm,service,handoff]"
RUN useradd --create-home deepflix && mkdir -p /var/lib/deepflix && chown deepflix /var/lib/deepflix
USER deepflix
EXPOSE 3006
CMD ["deepflix", "serve", "--host", "0.0.0.0"]
