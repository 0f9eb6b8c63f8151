// Neural Network Animator's web viewer: plays window.NNA_DATA (written by addon/web.py from a
// keyframe plan) with three.js. Bundled with three.js into web/vendor/viewer.js by `make web-bundle`.
//
// Neurons and synapses are instanced meshes; per frame only a few typed arrays change (each
// neuron's activity; each synapse's weight, signal and error glow) and two uniforms per synapse
// layer (the pulses' progress). Radii, colours and pulses are computed in the shaders from those
// numbers with the formulas of docs/look.md.

import {
  AdditiveBlending,
  BufferAttribute,
  BufferGeometry,
  Color,
  DataTexture,
  DoubleSide,
  FloatType,
  LinearSRGBColorSpace,
  Mesh,
  PerspectiveCamera,
  RedFormat,
  SRGBColorSpace,
  Scene,
  ShaderMaterial,
  Vector3,
  WebGLRenderer,
} from "three";
import { OrbitControls } from "three/examples/jsm/controls/OrbitControls.js";
import { RowTrack, SharedTrack, textEntry, revealed } from "./tracks.js";

const DATA_FORMAT = 1;
const SPEEDS = [0.25, 0.5, 1, 2, 4, 8];
// Blender's camera (addon/scene.py): a 50 mm lens on a 36 mm sensor across the longer side.
const TAN_HALF_FOV = 18 / 50;
const MARGIN = 1.15;
const BACKGROUND = [0.004, 0.005, 0.008];
const HALO_SIZE = 3.2; // halo radius, in neuron radii
const HALO_STRENGTH = 0.55;
// While playing on a slow renderer the page draws less, level by level, to keep frames coming:
// [pixel ratio (x the normal one), share of a large layer's synapses drawn]. Still frames draw
// everything at full resolution.
const LEVELS = [
  [1, 1],
  [0.75, 1],
  [0.56, 1],
  [0.56, 0.6],
  [0.5, 0.4],
  [0.42, 0.25],
  [0.35, 0.15],
  [0.35, 0.1],
  [0.3, 0.06],
];
const THINNABLE = 1000; // a synapse layer drawing more synapses than this may be thinned while playing

const api = {
  ready: false,
  error: null,
  loadMs: null,
  renders: 0,
};
window.nna = api;

function $(id) {
  return document.getElementById(id);
}

function fail(message) {
  api.error = message;
  const box = $("message");
  if (box) {
    box.textContent = message;
    box.hidden = false;
  }
}

// --------------------------------------------------------------------------------------------
// shaders
//
// Everything is drawn in a few draw calls of merged geometry (no THREE.InstancedMesh): software
// WebGL (SwiftShader) pays about 25 us per instance, so 50,816 instanced synapses took over a
// second per frame, while one mesh of 50,816 quads takes a fraction of that. Per-item numbers
// (activity; weight, signal, error) live in float textures, one texel per item, that the vertex
// shaders read by the item's index; a frame uploads only those textures, and only when they change.
//
// - A synapse is a ribbon that faces the camera, as wide as the cylinder of docs/look.md (2 r):
//   its colour is pure emission, so a flat ribbon and a cylinder look the same, with 2 triangles.
// - A neuron is a ray-cast sphere on a camera-facing quad (exact silhouette, shading and depth).
// - A lit neuron gets an additive halo: the bloom of Blender's compositor, cheaply.

const lookUniforms = (L) => ({
  uRMin: { value: L.R_MIN },
  uRMax: { value: L.R_MAX },
  uWRef: { value: L.W_REF },
  uGreen: { value: new Color().fromArray(L.GREEN) },
  uRed: { value: new Color().fromArray(L.RED) },
  uSignal: { value: new Color().fromArray(L.SIGNAL) },
  uError: { value: new Color().fromArray(L.ERROR) },
  uSynGlow: { value: L.SYNAPSE_GLOW },
  uPulseGlow: { value: L.PULSE_GLOW },
  uPulseWidth: { value: L.PULSE_WIDTH },
});

const FETCH = /* glsl */ `
float fetch(sampler2D tex, int i) {
  int w = textureSize(tex, 0).x;
  return texelFetch(tex, ivec2(i % w, i / w), 0).r;
}`;

const SYNAPSE_VERTEX = /* glsl */ `
uniform sampler2D uWeight, uSignalTex, uErrorTex;
uniform float uScale, uRMin, uRMax, uWRef, uInvPeak, uDim;
attribute vec3 aSrc, aDst;
attribute float aIndex;
varying float vZ, vWeight, vSignal, vError, vFade;
${FETCH}
void main() {
  int i = int(aIndex + 0.5);
  float w = fetch(uWeight, i);
  vWeight = w;
  vSignal = fetch(uSignalTex, i);
  vError = fetch(uErrorTex, i);
  // a dense layer: r = s * (R_MIN + (R_MAX - R_MIN) * tanh(|w| / W_REF)) (tanh clamped: large
  // arguments overflow on some GPUs); a big one (uInvPeak > 0, docs/look.md): u = |w| / the layer's
  // largest |w| instead of the tanh, and the weight colour faded by 1 - dim (1 - u^2)
  float u = min(abs(w) * uInvPeak, 1.0);
  float r = uScale * (uRMin + (uRMax - uRMin) * (uInvPeak > 0.0 ? u : tanh(min(abs(w) / uWRef, 9.0))));
  vFade = 1.0 - uDim * (1.0 - u * u);
  vec3 a = (viewMatrix * modelMatrix * vec4(aSrc, 1.0)).xyz;
  vec3 b = (viewMatrix * modelMatrix * vec4(aDst, 1.0)).xyz;
  vZ = position.y;  // 0 at the sender, 1 at the receiver
  vec3 m = mix(a, b, position.y);
  vec3 side = cross(b - a, m);  // across the synapse and the line of sight
  float n = length(side);
  side = n > 0.0 ? side / n : vec3(1.0, 0.0, 0.0);
  gl_Position = projectionMatrix * vec4(m + side * (position.x * r), 1.0);
}`;

const SYNAPSE_FRAGMENT = /* glsl */ `
uniform vec3 uGreen, uRed, uSignal, uError;
uniform float uSynGlow, uPulseGlow, uPulseWidth, uFwd, uBack;
varying float vZ, vWeight, vSignal, vError, vFade;
float pulse(float z, float p) {
  return (p > 0.0 && p < 1.0) ? clamp(1.0 - abs(z - p) / uPulseWidth, 0.0, 1.0) : 0.0;
}
void main() {
  vec3 c = (vWeight > 0.0 ? uGreen : uRed) * (uSynGlow * vFade);
  c += uSignal * (uPulseGlow * vSignal * pulse(vZ, uFwd));
  c += uError * (uPulseGlow * vError * pulse(1.0 - vZ, uBack));
  gl_FragColor = vec4(min(c, vec3(1.0)), 1.0);
  #include <colorspace_fragment>
}`;

// a quad around each neuron in the plane through its centre facing the camera; for a halo its half
// side is uSize x the neuron's radius (aRadius.x) x its halo (aRadius.y: 0 for an input image's pixels)
const SPRITE_VERTEX = /* glsl */ `
uniform sampler2D uActivity;
uniform float uMaxGlow, uSize, uHalo;
attribute vec3 aCentre, aRadius;
attribute float aIndex;
varying vec3 vCentre, vPos;
varying vec2 vXY;
varying float vA, vRadius;
${FETCH}
void main() {
  vA = min(abs(fetch(uActivity, int(aIndex + 0.5))), 1.0);
  float r = aRadius.x;
  vec3 c = (viewMatrix * modelMatrix * vec4(aCentre, 1.0)).xyz;
  float d = length(c);
  // the sphere's outline on that plane is a little larger than its radius (perspective), never 2x
  float size = uHalo > 0.5 ? uSize * r * aRadius.y * step(0.001, vA) : r * 1.25 * d / sqrt(max(d * d - r * r, 0.25 * d * d));
  vec3 p = c + vec3(position.xy * size, 0.0);
  vRadius = r;
  vCentre = c;
  vPos = p;
  vXY = position.xy;
  gl_Position = projectionMatrix * vec4(p, 1.0);
}`;

const NEURON_FRAGMENT = /* glsl */ `
uniform mat4 projectionMatrix;
uniform vec3 uBase, uGlow;
uniform float uMaxGlow;
varying vec3 vCentre, vPos;
varying vec2 vXY;
varying float vA, vRadius;
void main() {
  // the ray from the eye through this pixel against the sphere
  vec3 dir = normalize(vPos);
  float b = dot(dir, vCentre);
  float h = b * b - dot(vCentre, vCentre) + vRadius * vRadius;
  if (h < 0.0) discard;
  vec3 hit = dir * (b - sqrt(h));
  vec3 n = (hit - vCentre) / vRadius;
  vec4 clip = projectionMatrix * vec4(hit, 1.0);
  gl_FragDepth = 0.5 * clip.z / clip.w + 0.5;
  // a dark diffuse sphere lit from the upper left, plus its emission (Blender's Standard view clips at 1)
  float light = 0.5 + 1.5 * max(dot(n, normalize(vec3(-0.35, 0.6, 0.7))), 0.0);
  vec3 c = uBase * light + uGlow * (uMaxGlow * vA);
  gl_FragColor = vec4(min(c, vec3(1.0)), 1.0);
  #include <colorspace_fragment>
}`;

const HALO_FRAGMENT = /* glsl */ `
uniform vec3 uGlow;
uniform float uStrength;
varying vec2 vXY;
varying float vA;
void main() {
  float d2 = dot(vXY, vXY);
  float a = uStrength * vA * exp(-5.0 * d2) * (1.0 - smoothstep(0.8, 1.0, d2));
  gl_FragColor = vec4(uGlow * a, 1.0);
  #include <colorspace_fragment>
}`;

// --------------------------------------------------------------------------------------------
// the scene

// One float per item in a texture the shaders read (texelFetch); `array` is written by the tracks.
class Values {
  constructor(n) {
    const w = Math.max(1, Math.min(n, 2048));
    const h = Math.max(1, Math.ceil(n / w));
    this.array = new Float32Array(w * h);
    this.texture = new DataTexture(this.array, w, h, RedFormat, FloatType);
    this.texture.needsUpdate = true;
  }

  set needsUpdate(on) {
    if (on) this.texture.needsUpdate = true;
  }
}

// n items of one shape: quads (corners +-1, +-1) or ribbons (+-1, 0..1);
// attributes per vertex: its corner, the item's index and per-item vectors
const SHAPES = {
  quad: { corners: [-1, -1, 1, -1, 1, 1, -1, 1], faces: [0, 1, 2, 0, 2, 3] },
  ribbon: { corners: [-1, 0, 1, 0, 1, 1, -1, 1], faces: [0, 1, 2, 0, 2, 3] },
};

// `order`: which item each shape is (a shuffled order makes any first part of it an even sample)
function items(n, shape, perItem, order = null) {
  const { corners, faces } = SHAPES[shape];
  const k = corners.length / 2;
  const geo = new BufferGeometry();
  const position = new Float32Array(n * k * 3);
  const index = new Float32Array(n * k);
  for (let i = 0; i < n; i++) {
    for (let v = 0; v < k; v++) {
      position[3 * (k * i + v)] = corners[2 * v];
      position[3 * (k * i + v) + 1] = corners[2 * v + 1];
      index[k * i + v] = order ? order[i] : i;
    }
  }
  geo.setAttribute("position", new BufferAttribute(position, 3));
  geo.setAttribute("aIndex", new BufferAttribute(index, 1));
  if (faces) {
    const all = new Uint32Array(n * faces.length);
    for (let i = 0; i < n; i++) for (let f = 0; f < faces.length; f++) all[faces.length * i + f] = k * i + faces[f];
    geo.setIndex(new BufferAttribute(all, 1));
  }
  const v3 = new Vector3();
  for (const [name, get] of Object.entries(perItem)) {
    const a = new Float32Array(n * k * 3);
    for (let i = 0; i < n; i++) {
      get(order ? order[i] : i, v3);
      for (let v = 0; v < k; v++) {
        a[3 * (k * i + v)] = v3.x;
        a[3 * (k * i + v) + 1] = v3.y;
        a[3 * (k * i + v) + 2] = v3.z;
      }
    }
    geo.setAttribute(name, new BufferAttribute(a, 3));
  }
  return geo;
}

// 0..n-1 in a fixed pseudo-random order (mulberry32, Fisher-Yates)
function shuffled(n) {
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  let seed = 0x6e6e61;
  const random = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

function buildScene(D) {
  const L = D.look;
  const scene = new Scene();
  scene.background = new Color().setRGB(...BACKGROUND, LinearSRGBColorSpace);
  const nNeurons = D.positions.length / 3;
  const pos = (g, out = new Vector3()) => out.set(D.positions[3 * g], D.positions[3 * g + 1], D.positions[3 * g + 2]);

  // neurons: spheres and their halos, on one set of quads, read one activity texture
  const activity = new Values(nNeurons);
  const sprites = items(nNeurons, "quad", {
    aCentre: (g, v) => pos(g, v),
    aRadius: (g, v) => v.set(D.radii[g], D.halos[g], 0),
  });
  const spriteUniforms = {
    uActivity: { value: activity.texture },
    uMaxGlow: { value: L.NEURON_MAX_GLOW },
    uGlow: { value: new Color().fromArray(L.NEURON_GLOW) },
    uSize: { value: HALO_SIZE },
  };
  const neurons = new Mesh(
    sprites,
    new ShaderMaterial({
      uniforms: { ...spriteUniforms, uBase: { value: new Color().fromArray(L.NEURON_BASE) }, uHalo: { value: 0 } },
      vertexShader: SPRITE_VERTEX,
      fragmentShader: NEURON_FRAGMENT,
    }),
  );
  const halos = new Mesh(
    sprites,
    new ShaderMaterial({
      uniforms: { ...spriteUniforms, uStrength: { value: HALO_STRENGTH }, uHalo: { value: 1 } },
      vertexShader: SPRITE_VERTEX,
      fragmentShader: HALO_FRAGMENT,
      blending: AdditiveBlending,
      depthWrite: false,
      transparent: true,
    }),
  );
  halos.renderOrder = 1;

  // synapses: one mesh of ribbons per synapse layer; synapse p joins neuron p % nSrc to neuron p / nSrc
  const offsets = [0];
  for (const n of D.layers) offsets.push(offsets[offsets.length - 1] + n);
  const groups = D.synapses.map((G) => {
    const all = G.nSrc * G.nDst;
    // a big layer draws what Blender draws: the synapses of look.drawn_synapses (G.drawn)
    const drawn = G.drawn ? Uint32Array.from(G.drawn) : null;
    const n = drawn ? drawn.length : all;
    const a0 = offsets[G.layer];
    const b0 = offsets[G.layer + 1];
    const ends = {
      aSrc: (p, v) => pos(a0 + (p % G.nSrc), v),
      aDst: (p, v) => pos(b0 + Math.floor(p / G.nSrc), v),
    };
    const weight = new Values(all);
    const signal = new Values(all);
    const error = new Values(all);
    const uniforms = {
      ...lookUniforms(L),
      uScale: { value: D.radiusScale },
      uInvPeak: { value: G.invPeak ?? 0 },
      uDim: { value: G.dim ?? 0 },
      uFwd: { value: 0 },
      uBack: { value: 0 },
      uWeight: { value: weight.texture },
      uSignalTex: { value: signal.texture },
      uErrorTex: { value: error.texture },
    };
    const material = new ShaderMaterial({
      uniforms,
      vertexShader: SYNAPSE_VERTEX,
      fragmentShader: SYNAPSE_FRAGMENT,
      side: DoubleSide, // a ribbon's winding depends on which way it is seen
    });
    // a large layer's ribbons in a shuffled order, so that drawing fewer of them (see `detail`) thins it evenly
    const thinnable = n > THINNABLE;
    let order = drawn;
    if (thinnable) {
      const mix = shuffled(n);
      order = drawn ? mix.map((i) => drawn[i]) : mix;
    }
    const meshes = [new Mesh(items(n, "ribbon", ends, order), material)];
    return { G, meshes, uniforms, weight, signal, error, thinnable, n };
  });
  for (const obj of [...groups.flatMap((g) => g.meshes), neurons, halos]) {
    obj.frustumCulled = false; // the vertex shaders place everything
    scene.add(obj);
  }
  return { scene, neurons, activity, groups, pos: (g) => pos(g), offsets };
}

// --------------------------------------------------------------------------------------------
// the camera: Blender's framing (addon/scene.py frame_points) of the neurons' bounding box

function fitCamera(camera, controls, D, aspect) {
  const [right, up, fwd] = ["right", "up", "forward"].map((k) => new Vector3().fromArray(D.view[k]));
  const half = TAN_HALF_FOV / MARGIN;
  // room for the HUD above and the controls below: fit into 80 % of the height
  const [hx, hy] = aspect >= 1 ? [half, (half / aspect) * 0.8] : [half * aspect, half * 0.8];
  const [lo, hi] = D.bounds;
  const corners = [];
  for (const x of [lo[0], hi[0]]) for (const y of [lo[1], hi[1]]) for (const z of [lo[2], hi[2]]) corners.push(new Vector3(x, y, z));
  const xs = corners.map((c) => c.dot(right));
  const ys = corners.map((c) => c.dot(up));
  const zs = corners.map((c) => c.dot(fwd));
  const cx = (Math.min(...xs) + Math.max(...xs)) / 2;
  const cy = (Math.min(...ys) + Math.max(...ys)) / 2;
  const zmin = Math.min(...zs);
  const zmax = Math.max(...zs);
  let dist = 0;
  for (let i = 0; i < 8; i++) dist = Math.max(dist, Math.max(Math.abs(xs[i] - cx) / hx, Math.abs(ys[i] - cy) / hy) - (zs[i] - zmin));
  dist += 0.5;
  const eye = right.clone().multiplyScalar(cx).addScaledVector(up, cy).addScaledVector(fwd, zmin - dist);
  const target = eye.clone().addScaledVector(fwd, dist + (zmax - zmin) / 2);
  camera.position.copy(eye);
  camera.near = Math.max(0.01, dist / 100);
  camera.far = (dist + (zmax - zmin)) * 20;
  controls.target.copy(target);
  camera.lookAt(target);
  camera.updateProjectionMatrix();
  controls.update();
}

function setFov(camera, aspect) {
  // the 50 mm lens spans the longer side
  const tanV = aspect >= 1 ? TAN_HALF_FOV / aspect : TAN_HALF_FOV;
  camera.fov = (2 * Math.atan(tanV) * 180) / Math.PI;
  camera.aspect = aspect;
  camera.updateProjectionMatrix();
}

// --------------------------------------------------------------------------------------------
// the loss curve (SVG)

const SVG = "http://www.w3.org/2000/svg";

function buildLoss(D) {
  const svg = $("loss");
  const W = 240;
  const H = 150;
  const pad = { l: 34, r: 10, t: 22, b: 26 };
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  const c = D.loss.cycles;
  const e = D.loss.meanError;
  const span = c.length && Math.max(...c) > 1 ? Math.log10(Math.max(...c)) : 1;
  const top = e.length && Math.max(...e) > 0 ? Math.max(...e) : 1;
  const x = (cyc) => pad.l + (Math.log10(Math.max(cyc, 1)) / span) * (W - pad.l - pad.r);
  const y = (err) => H - pad.b - (err / top) * (H - pad.t - pad.b);
  const el = (name, attrs, text) => {
    const n = document.createElementNS(SVG, name);
    for (const k in attrs) n.setAttribute(k, attrs[k]);
    if (text) n.textContent = text;
    svg.appendChild(n);
    return n;
  };
  el("path", { class: "axis", d: `M${pad.l},${pad.t - 6}V${H - pad.b}H${W - pad.r}` });
  el("text", { x: pad.l, y: pad.t - 10, class: "label" }, "mean error");
  el("text", { x: W - pad.r, y: H - 8, class: "label", "text-anchor": "end" }, "cycles (log scale)");
  el("text", { x: pad.l - 4, y: pad.t + 4, class: "tick", "text-anchor": "end" }, `${(top * 100).toFixed(0)}%`);
  el("text", { x: pad.l - 4, y: H - pad.b, class: "tick", "text-anchor": "end" }, "0");
  const line = el("polyline", { class: "curve", points: "" });
  const pts = c.map((cyc, i) => `${x(cyc).toFixed(1)},${y(e[i]).toFixed(1)}`);
  let shown = -1;
  return (frame) => {
    const n = revealed(D.loss.frames, frame);
    if (n === shown) return;
    shown = n;
    line.setAttribute("points", pts.slice(0, n).join(" "));
  };
}

// --------------------------------------------------------------------------------------------
// the page

function isSoftware(renderer) {
  const gl = renderer.getContext();
  const info = gl.getExtension("WEBGL_debug_renderer_info");
  const name = String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
  return /swiftshader|llvmpipe|softpipe|software|basic render/i.test(name);
}

function start() {
  const t0 = performance.now();
  const D = window.NNA_DATA;
  if (!D) return fail("network.js did not load: keep it in the same folder as index.html.");
  if (D.format !== DATA_FORMAT) return fail(`network.js has data format ${D.format}; this viewer reads ${DATA_FORMAT}.`);

  const canvas = $("view");
  let renderer;
  try {
    // no MSAA: antialiasing is supersampling (see render), which the page can turn down while things move
    renderer = new WebGLRenderer({ canvas, antialias: false, powerPreference: "high-performance" });
  } catch (err) {
    return fail(`This browser cannot show 3-D graphics (WebGL 2 is needed): ${err.message}`);
  }
  renderer.outputColorSpace = SRGBColorSpace;
  // Drawing-buffer pixels per CSS pixel: 2 when still (supersampled, smooth edges); while playing,
  // scrubbing or orbiting the screen's own ratio on a software renderer (4x fewer pixels to shade).
  const dpr = Math.min(window.devicePixelRatio || 1, 2);
  const software = isSoftware(renderer);
  const ratios = { motion: software ? dpr : 2, still: 2 };
  let ratio = 0;

  const tRenderer = performance.now();
  const built = buildScene(D);
  const tScene = performance.now();
  const { scene, activity, groups, pos } = built;
  const camera = new PerspectiveCamera(40, 1, 0.1, 1000);
  camera.up.set(0, 0, 1); // +Z up, as in Blender (before the controls: they read it once)
  const controls = new OrbitControls(camera, canvas);
  controls.enableDamping = false;
  controls.zoomSpeed = 1.2;

  const tracks = {
    activity: new RowTrack(D.activity, D.blobs),
    groups: groups.map((g) => ({
      weight: new RowTrack(g.G.weight, D.blobs, g.G.nSrc),
      signal: new RowTrack(g.G.signal, D.blobs, g.G.nSrc),
      error: new RowTrack(g.G.error, D.blobs, g.G.nSrc),
      forward: new SharedTrack(g.G.forward),
      backward: new SharedTrack(g.G.backward),
    })),
  };

  // neuron numbers beside the neurons of small layers (as in Blender)
  const labelBox = $("labels");
  const labels = [];
  for (const k of D.labelled) {
    for (let i = 0; i < D.layers[k]; i++) {
      const g = built.offsets[k] + i;
      const div = document.createElement("div");
      div.className = "num";
      labelBox.appendChild(div);
      labels.push({ g, div, text: "" });
    }
  }

  const hud = [$("hud1"), $("hud2"), $("hud3")];
  const scrub = $("scrub");
  const scrubLabel = $("scrub-label");
  const frameLabel = $("frame-label");
  const playButton = $("play");
  const speedSelect = $("speed");
  scrub.min = D.frameStart;
  scrub.max = D.frameEnd;
  scrub.step = 1;
  for (const s of SPEEDS) {
    const o = document.createElement("option");
    o.value = s;
    o.textContent = `${s}\u00d7`;
    if (s === 1) o.selected = true;
    speedSelect.appendChild(o);
  }
  const updateLoss = buildLoss(D);
  document.title = document.title || D.title;

  let frame = D.states.after[1];
  let playing = false;
  let played = false;
  let speed = 1;
  let dirty = true;
  let lastTime = null;
  let entry = -1;
  let shownFrame = null;
  let cameraMoved = false;
  let sharp = false;
  let lastDraw = 0;

  function apply(f) {
    if (tracks.activity.into(f, activity.array)) activity.needsUpdate = true;
    groups.forEach((g, k) => {
      const t = tracks.groups[k];
      if (t.weight.into(f, g.weight.array)) g.weight.needsUpdate = true;
      if (t.signal.into(f, g.signal.array)) g.signal.needsUpdate = true;
      if (t.error.into(f, g.error.array)) g.error.needsUpdate = true;
      g.uniforms.uFwd.value = t.forward.at(f);
      g.uniforms.uBack.value = t.backward.at(f);
    });
    const e = textEntry(D.text.frames, f);
    if (e !== entry) {
      entry = e;
      D.text.lines[e].forEach((line, i) => {
        hud[i].textContent = line;
      });
      scrubLabel.textContent = D.text.label[e];
    }
    updateLoss(f);
    const shown = Math.round(f);
    if (shown !== shownFrame) {
      // (the DOM only when it changes: a page relayout costs software renderers a few ms a frame)
      shownFrame = shown;
      frameLabel.textContent = `frame ${shown} / ${D.frameEnd}`;
      scrub.value = shown;
    }
    for (const l of labels) {
      const t = activity.array[l.g].toFixed(2);
      if (t !== l.text) {
        l.text = t;
        l.div.textContent = t;
      }
    }
    dirty = true;
  }

  function setFrame(f) {
    frame = Math.min(Math.max(f, D.frameStart), D.frameEnd);
    apply(frame);
  }

  function project(v) {
    const p = v.clone().project(camera);
    const r = canvas.getBoundingClientRect();
    return [r.left + ((p.x + 1) / 2) * r.width, r.top + ((1 - p.y) / 2) * r.height];
  }

  const viewKey = new Float64Array(17);
  function placeLabels() {
    // only when the view changed
    const e = camera.matrixWorld.elements;
    let same = viewKey[16] === canvas.clientWidth * 10000 + canvas.clientHeight;
    for (let i = 0; i < 16; i++) same = same && viewKey[i] === e[i];
    if (same) return;
    viewKey.set(e);
    viewKey[16] = canvas.clientWidth * 10000 + canvas.clientHeight;
    const off = new Vector3(D.look.NEURON_RADIUS + 0.15, 0, 0);
    for (const l of labels) {
      const [x, y] = project(pos(l.g).add(off));
      l.div.style.transform = `translate(${x.toFixed(1)}px, ${y.toFixed(1)}px) translateY(-50%)`;
    }
  }

  // While playing the level adapts: below 24 frames a second one down (see LEVELS), above 45 one up.
  // a software renderer starts a big network lower (it would take seconds to get there)
  let level = software && groups.reduce((n, g) => n + g.n, 0) > 20000 ? 4 : 0;
  let fixedLevel = null;
  let lastMotion = null;
  // Frame times are averaged over at least 4 frames and 400 ms per level (or one frame of 1.5 s).
  // Without a layer to thin, a step down that did not make frames at least 10 % faster is taken
  // back and becomes the floor (the time then goes elsewhere, e.g. into compositing the page, and a
  // coarser picture would buy nothing).
  let floor = LEVELS.length - 1;
  const thinnable = groups.some((g) => g.thinnable); // then every step down draws less: no floor
  let acc = 0;
  let count = 0;
  let lastMs = 0;
  let steppedDown = false;
  function adapt(now) {
    if (lastMotion !== null) {
      acc += now - lastMotion;
      count++;
    }
    lastMotion = now;
    if (fixedLevel !== null || !((count >= 4 && acc >= 400) || acc >= 1500)) return;
    const ms = acc / count;
    acc = 0;
    count = 0;
    const before = lastMs;
    lastMs = ms;
    if (steppedDown && ms > 0.9 * before && !thinnable) {
      floor = level - 1;
      level = floor;
      steppedDown = false;
    } else if (ms > 1000 / 24 && level < floor) {
      level++;
      steppedDown = true;
    } else if (ms < 1000 / 45 && level > 0) {
      level--;
      steppedDown = false;
    } else steppedDown = false;
  }

  function render(still = false) {
    const [scale, detail] = still ? [1, 1] : LEVELS[fixedLevel ?? level];
    for (const g of groups) {
      if (g.thinnable) g.meshes[0].geometry.setDrawRange(0, 6 * Math.ceil(g.n * detail));
    }
    const want = still ? ratios.still : ratios.motion * scale;
    if (want !== ratio) {
      ratio = want;
      renderer.setPixelRatio(ratio);
    }
    renderer.render(scene, camera);
    sharp = still;
    placeLabels();
    api.renders++;
  }

  function resize() {
    const w = window.innerWidth;
    const h = window.innerHeight;
    renderer.setSize(w, h, false);
    setFov(camera, w / h);
    if (!cameraMoved) fitCamera(camera, controls, D, w / h);
    dirty = true;
  }

  function setPlaying(on) {
    if (on && !played && frame === D.states.after[1]) setFrame(D.frameStart); // the first play starts at the beginning
    if (on && frame >= D.frameEnd) setFrame(D.frameStart);
    playing = on;
    played = played || on;
    lastTime = null;
    playButton.textContent = on ? "\u275a\u275a" : "\u25b6";
    playButton.title = on ? "pause (space)" : "play (space)";
  }

  function tick(now) {
    requestAnimationFrame(tick);
    if (playing) {
      const dt = lastTime === null ? 0 : Math.min((now - lastTime) / 1000, 0.25);
      lastTime = now;
      const f = frame + dt * D.fps * speed;
      if (f >= D.frameEnd) {
        setFrame(D.frameEnd);
        setPlaying(false);
      } else setFrame(f);
    }
    if (dirty) {
      dirty = false;
      if (playing) adapt(now);
      else {
        lastMotion = null;
        acc = 0;
        count = 0;
      }
      render(false);
      lastDraw = now;
    } else if (!sharp && !playing && now - lastDraw > 150) render(true);
  }

  // controls
  playButton.addEventListener("click", () => setPlaying(!playing));
  scrub.addEventListener("input", () => {
    played = true;
    setFrame(Number(scrub.value));
  });
  speedSelect.addEventListener("change", () => {
    speed = Number(speedSelect.value);
  });
  const bookmarks = { before: D.states.before[1], after: D.states.after[1], query: D.states.query[1] };
  for (const [name, f] of Object.entries(bookmarks)) {
    $(`go-${name}`).addEventListener("click", () => {
      played = true;
      setPlaying(false);
      setFrame(f);
    });
  }
  $("reset").addEventListener("click", () => {
    cameraMoved = false;
    fitCamera(camera, controls, D, camera.aspect);
    dirty = true;
  });
  controls.addEventListener("change", () => {
    dirty = true;
  });
  controls.addEventListener("start", () => {
    cameraMoved = true;
  });
  window.addEventListener("resize", resize);
  window.addEventListener("keydown", (ev) => {
    if (ev.target instanceof HTMLInputElement && ev.target.type !== "range") return;
    if (ev.key === " ") {
      setPlaying(!playing);
      ev.preventDefault();
    } else if (ev.key === "ArrowRight" || ev.key === "ArrowLeft") {
      played = true;
      setPlaying(false);
      setFrame(Math.round(frame) + (ev.key === "ArrowRight" ? 1 : -1));
      ev.preventDefault();
    } else if (ev.key === "Home" || ev.key === "End") {
      setFrame(ev.key === "Home" ? D.frameStart : D.frameEnd);
      ev.preventDefault();
    }
  });

  // the test and benchmark hook
  const nextPaint = () => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
  // (getters defined one by one: Object.assign would copy their values once)
  Object.defineProperties(api, {
    frame: { get: () => frame },
    playing: { get: () => playing },
    level: { get: () => level },
    ratio: { get: () => ratio },
  });
  Object.assign(api, {
    info: {
      software,
      title: D.title,
      layers: D.layers,
      frameStart: D.frameStart,
      frameEnd: D.frameEnd,
      fps: D.fps,
      synapses: groups.reduce((s, g) => s + g.G.nSrc * g.G.nDst, 0),
      drawn: groups.reduce((s, g) => s + g.n, 0),
    },
    seek(f) {
      played = true;
      setPlaying(false);
      setFrame(f);
      render(true);
      dirty = false;
      return nextPaint();
    },
    // milliseconds to draw each of these frames, waiting for the GPU (a one-pixel read-back)
    timeFrames(frames, still = false) {
      const gl = renderer.getContext();
      const px = new Uint8Array(4);
      return frames.map((f) => {
        const t = performance.now();
        setFrame(f);
        render(still);
        gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, px);
        return performance.now() - t;
      });
    },
    seekSeconds(s) {
      return api.seek(D.frameStart + s * D.fps);
    },
    play() {
      setPlaying(true);
    },
    pause() {
      setPlaying(false);
    },
    hudText: () => hud.map((h) => h.textContent).join("\n"),
    scrubLabel: () => scrubLabel.textContent,
    // CSS pixel position of neuron g's centre, and of the point at fraction t along synapse p of layer k
    project: (g) => project(pos(g)),
    projectSynapse: (k, p, t = 0.5) => {
      const G = D.synapses[k];
      const a = pos(built.offsets[k] + (p % G.nSrc));
      const b = pos(built.offsets[k + 1] + Math.floor(p / G.nSrc));
      return project(a.lerp(b, t));
    },
    values: (f) => {
      // the evaluated tracks at frame f (for tests): activity and each layer's weights and pulses
      const act = new Float32Array(activity.array.length);
      new RowTrack(D.activity, D.blobs).into(f, act);
      return {
        activity: Array.from(act),
        weight: D.synapses.map((G) => {
          const w = new Float32Array(G.nSrc * G.nDst);
          new RowTrack(G.weight, D.blobs, G.nSrc).into(f, w);
          return Array.from(w);
        }),
        forward: tracks.groups.map((t) => t.forward.at(f)),
        backward: tracks.groups.map((t) => t.backward.at(f)),
      };
    },
    // play for `seconds` from frame `from` at `playSpeed`; frames drawn per second. `atLevel`:
    // draw at this level of LEVELS throughout (0: everything at full resolution; null: adaptive)
    measureFps(seconds = 3, from = D.frameStart, playSpeed = 1, atLevel = null) {
      fixedLevel = atLevel;
      setPlaying(false);
      setFrame(from);
      played = true;
      speed = playSpeed;
      const r0 = api.renders;
      const s0 = performance.now();
      setPlaying(true);
      return new Promise((resolve) => {
        setTimeout(() => {
          const took = (performance.now() - s0) / 1000;
          const renders = api.renders - r0;
          const used = { ratio, level: fixedLevel ?? level };
          setPlaying(false);
          fixedLevel = null;
          speed = Number(speedSelect.value);
          resolve({ fps: renders / took, renders, seconds: took, frame, ...used });
        }, seconds * 1000);
      });
    },
  });

  resize();
  setFrame(frame); // the first picture: the trained network (the 'after' state)
  // drawn as a moving frame first (quick on any renderer); the complete, supersampled one follows
  const tFirst = performance.now();
  render(false);
  lastDraw = tFirst;
  dirty = false;
  api.timings = { renderer: tRenderer - t0, scene: tScene - tRenderer, setup: tFirst - tScene, firstRender: performance.now() - tFirst };
  requestAnimationFrame(tick);
  requestAnimationFrame(() => {
    api.loadMs = performance.now();
    api.setupMs = performance.now() - t0;
    api.ready = true;
    document.body.dataset.ready = "1";
  });
}

function safeStart() {
  try {
    start();
  } catch (err) {
    fail(`The viewer failed to start: ${err.message}`);
    throw err;
  }
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", safeStart);
else safeStart();
