"""Rewrites MODNet (already simplified by onnxsim at a fixed input size) into operations tract
runs fast, without changing what it computes, and checks that against onnxruntime on a photo.

  modnet_rewrite.py ORIGINAL.onnx SIMPLIFIED.onnx OUT.onnx H W PHOTO.png

- each ×2 bilinear Resize (pytorch_half_pixel, edges clamped) → two MatMuls with constant
  interpolation matrices (rows first, then columns);
- ×0.5 → AveragePool 2/2; ×0.25 → Slice from (1,1) + AveragePool kernel 2 stride 4;
- Conv_191, a 5×5 conv 1280→96 on an upsampled map, → a 1×1 conv 1280→96·25 at low
  resolution, the ×2 upsample, and a sum of 25 shifted slices (channel mixing commutes with
  per-channel spatial operations), which saves most of its multiplications.
Exits non-zero if the alpha differs from the original network's by more than 1e-4 anywhere.
"""
import sys
import numpy as np
import onnx
import onnxruntime as ort
from onnx import helper, numpy_helper, shape_inference
from PIL import Image

orig, src, dst, photo = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[6]
H, W = int(sys.argv[4]), int(sys.argv[5])
m = onnx.load(src)
g = m.graph
shapes = {}
for vi in (lambda i: list(i.value_info) + list(i.input) + list(i.output))(shape_inference.infer_shapes(m).graph):
    shapes[vi.name] = [d.dim_value for d in vi.type.tensor_type.shape.dim]
inits = {i.name: numpy_helper.to_array(i) for i in g.initializer}
consts = {n.output[0]: numpy_helper.to_array(n.attribute[0].t) for n in g.node if n.op_type == 'Constant'}
new_inits = []


def init(name, arr):
    new_inits.append(numpy_helper.from_array(np.asarray(arr), name))
    return name


def up2(n):
    """Bilinear ×2 along one axis of length n, half-pixel centres, edges clamped."""
    a = np.zeros((2 * n, n), np.float32)
    for o in range(2 * n):
        s = max((o + 0.5) / 2 - 0.5, 0.0)
        i0 = int(np.floor(s))
        f = s - i0
        a[o, i0] += 1 - f
        a[o, min(i0 + 1, n - 1)] += f
    return a


# Step 1: the Resizes.
nodes = []
for k, n in enumerate(g.node):
    if n.op_type != 'Resize':
        nodes.append(n)
        continue
    attrs = {a.name: helper.get_attribute_value(a) for a in n.attribute}
    assert attrs['mode'] == b'linear' and attrs['coordinate_transformation_mode'] == b'pytorch_half_pixel', attrs
    scales = list(inits.get(n.input[2], consts.get(n.input[2])))
    x, y = n.input[0], n.output[0]
    h, w = shapes[x][2], shapes[x][3]
    p = f'rw{k}_'
    if scales == [1, 1, 2, 2]:
        nodes += [helper.make_node('MatMul', [init(p + 'ah', up2(h)), x], [p + 'h'], name=p + 'mmh'),
                  helper.make_node('MatMul', [p + 'h', init(p + 'awt', up2(w).T.copy())], [y], name=p + 'mmw')]
    elif scales == [1, 1, 0.5, 0.5]:
        nodes.append(helper.make_node('AveragePool', [x], [y], kernel_shape=[2, 2], strides=[2, 2], name=p + 'avg2'))
    elif scales == [1, 1, 0.25, 0.25]:
        sl = helper.make_node('Slice', [x, init(p + 'st', np.array([1, 1], np.int64)), init(p + 'en', np.array([h, w], np.int64)),
                                        init(p + 'ax', np.array([2, 3], np.int64))], [p + 'sl'], name=p + 'slice')
        nodes += [sl, helper.make_node('AveragePool', [p + 'sl'], [y], kernel_shape=[2, 2], strides=[4, 4], name=p + 'avg4')]
    else:
        raise SystemExit(f'unexpected Resize scales {scales} at {n.name}')

# Step 2: Conv_191 after its ×2 upsample.
prod = {o: n for n in nodes for o in n.output}
conv = next(n for n in nodes if n.name == 'Conv_191')
mmw = prod[conv.input[0]]
mmh = prod[mmw.input[0]]
assert mmw.op_type == mmh.op_type == 'MatMul'
x = mmh.input[1]
Wt = inits[conv.input[1]]
bias = inits[conv.input[2]] if len(conv.input) > 2 else np.zeros(Wt.shape[0], np.float32)
O, C, KH, KW = Wt.shape
T = KH * KW
attrs = {a.name: helper.get_attribute_value(a) for a in conv.attribute}
assert attrs.get('group', 1) == 1 and list(attrs.get('strides', [1, 1])) == [1, 1]
pads = attrs['pads']
H2, W2 = shapes[conv.input[0]][2], shapes[conv.input[0]][3]
p = 'Conv_191_ss_'
rewrite = [
    helper.make_node('Conv', [x, init(p + 'wz', Wt.transpose(0, 2, 3, 1).reshape(O * T, C, 1, 1).copy())], [p + 'z'], kernel_shape=[1, 1], name=p + 'mix'),
    helper.make_node('MatMul', [mmh.input[0], p + 'z'], [p + 'zh'], name=p + 'mmh'),
    helper.make_node('MatMul', [p + 'zh', mmw.input[1]], [p + 'zu'], name=p + 'mmw'),
    helper.make_node('Reshape', [p + 'zu', init(p + 'shp', np.array([1, O, T, H2, W2], np.int64))], [p + 'r'], name=p + 'reshape'),
    helper.make_node('Pad', [p + 'r', init(p + 'pads', np.array([0, 0, 0, pads[0], pads[1], 0, 0, 0, pads[2], pads[3]], np.int64))], [p + 'rp'], mode='constant', name=p + 'pad'),
]
axes = init(p + 'ax', np.array([2, 3, 4], np.int64))
for t in range(T):
    ty, tx = divmod(t, KW)
    rewrite.append(helper.make_node('Slice', [p + 'rp', init(p + f'st{t}', np.array([t, ty, tx], np.int64)),
                                              init(p + f'en{t}', np.array([t + 1, ty + H2, tx + W2], np.int64)), axes], [p + f's{t}'], name=p + f'slice{t}'))
rewrite += [
    helper.make_node('Sum', [p + f's{t}' for t in range(T)], [p + 'sum'], name=p + 'sum'),
    helper.make_node('Reshape', [p + 'sum', init(p + 'shp2', np.array([1, O, H2, W2], np.int64))], [p + 'sum4'], name=p + 'reshape2'),
    helper.make_node('Add', [p + 'sum4', init(p + 'b', bias.reshape(1, O, 1, 1))], [conv.output[0]], name=p + 'bias'),
]
out = []
for n in nodes:
    if n is conv:
        out += rewrite
    elif n is not mmh and n is not mmw:
        out.append(n)
del g.node[:]
g.node.extend(out)
g.initializer.extend(new_inits)
used = {i for n in g.node for i in n.input}
keep = [i for i in g.initializer if i.name in used]
del g.initializer[:]
g.initializer.extend(keep)
onnx.checker.check_model(m)
onnx.save(m, dst)

# Same alpha as the original on a real photo.
img = Image.open(photo).convert('RGB').resize((W, H), Image.BILINEAR)
inp = ((np.asarray(img, np.float32) / 255 - 0.5) / 0.5).transpose(2, 0, 1)[None].copy()
alpha = lambda path: ort.InferenceSession(path, providers=['CPUExecutionProvider']).run(None, {'input': inp})[0]
diff = float(np.abs(alpha(orig) - alpha(dst)).max())
print(f'{dst}: alpha max |diff| {diff:.1e} against the original on {photo}')
sys.exit(0 if diff < 1e-4 else 1)
