# A plain mirror of the README's install steps, for a Hugging Face Docker Space or a server.
# `make install` installs the Debian packages (Tesseract's Korean and English data, npm) and the venv.
FROM python:3.11-slim-bookworm

RUN apt-get update && apt-get install -y --no-install-recommends make && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY . .
RUN make install PYTHON=python3.11

ENV HEIMDEX_DATA_DIR=/data \
    HOST=0.0.0.0 \
    PORT=7860
VOLUME /data
EXPOSE 7860
CMD ["make", "run"]
