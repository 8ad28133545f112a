# The app image, shared by every service image of a topology (rendered by
# harness.runtime.backends.containers.images, which fills in the dollar placeholders).
# Dependencies and sources are separate layers: a source change rebuilds only the last one.
# Both were prepared on the host: dependencies installed by pip/uv `--target` for this
# Python minor version, everything byte-compiled (unchecked-hash .pyc), so no container
# compiles anything when it starts and nothing needs a registry or an index.
FROM ${base_image}
COPY pydeps /opt/harness/pydeps
COPY src /opt/harness/src
ENV PYTHONPATH=/opt/harness/src:/opt/harness/pydeps \
    PYTHONUNBUFFERED=1
LABEL io.harness.image=app
WORKDIR /harness/run
