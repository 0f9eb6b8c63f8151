// Test harness (not shipped): three.js 0.187 + GLTFLoader + @needle-tools/three-animation-pointer,
// bundled by esbuild at test time (tests/test_gltf_three.py). It loads a .glb given as base64 and
// exposes the animation's effect on the materials at any time, for the tests to compare.
import * as THREE from "three";
import { GLTFLoader } from "three/examples/jsm/loaders/GLTFLoader.js";
import { GLTFAnimationPointerExtension } from "@needle-tools/three-animation-pointer";

window.nnaGltf = {
  ready: false,
  error: null,
  warnings: [],
  load(base64) {
    const warn = console.warn;
    console.warn = (...args) => {
      window.nnaGltf.warnings.push(args.join(" "));
      warn(...args);
    };
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    const loader = new GLTFLoader();
    loader.register((p) => new GLTFAnimationPointerExtension(p));
    loader.parse(
      bytes.buffer,
      "",
      (gltf) => {
        const scene = gltf.scene;
        const mixer = new THREE.AnimationMixer(scene);
        const clip = gltf.animations[0];
        const action = mixer.clipAction(clip);
        action.setLoop(THREE.LoopOnce);
        action.clampWhenFinished = true;
        action.play();
        const materials = {};
        scene.traverse((o) => {
          if (o.isMesh) materials[o.material.name] = o.material;
        });
        this.gltf = gltf;
        this.mixer = mixer;
        this.materials = materials;
        this.duration = clip.duration;
        this.tracks = clip.tracks.map((t) => t.name);
        this.ready = true;
      },
      (err) => {
        this.error = String(err);
      },
    );
  },
  // emissive colour x intensity of a material, with the animation at time t
  glowAt(t, name) {
    this.mixer.setTime(t);
    const m = this.materials[name];
    const k = m.emissiveIntensity === undefined ? 1 : m.emissiveIntensity;
    return [m.emissive.r * k, m.emissive.g * k, m.emissive.b * k];
  },
  // the static pose (no animation applied): what a viewer without animation shows
  staticGlow(name) {
    const m = this.materials[name];
    const k = m.emissiveIntensity === undefined ? 1 : m.emissiveIntensity;
    return [m.emissive.r * k, m.emissive.g * k, m.emissive.b * k];
  },
};
