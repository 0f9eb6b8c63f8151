// Test harness (not shipped): the exported .glb in Babylon.js 9.28 (the UMD builds from
// node_modules/babylonjs and babylonjs-loaders, loaded as classic scripts before this one), for
// tests/test_gltf_babylon.py. It loads a .glb given as base64, with the file's own camera, and
// exposes the animation's effect on the materials and on the rendered pixels at any time.
window.nnaBabylon = {
  ready: false,
  error: null,
  warnings: [],
  async load(base64) {
    try {
      const warn = console.warn;
      console.warn = (...args) => {
        window.nnaBabylon.warnings.push(args.join(" "));
        warn(...args);
      };
      const canvas = document.getElementById("c");
      if (BABYLON.SceneLoader) BABYLON.SceneLoader.ShowLoadingScreen = false; // no logo over the picture
      const engine = new BABYLON.Engine(canvas, false, { preserveDrawingBuffer: true });
      const scene = new BABYLON.Scene(engine);
      scene.clearColor = new BABYLON.Color4(0, 0, 0, 1);
      const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
      await BABYLON.AppendSceneAsync(bytes, scene, { pluginExtension: ".glb" });
      if (scene.cameras.length) scene.activeCamera = scene.cameras[scene.cameras.length - 1];
      else scene.createDefaultCamera(true, true, false);
      const group = scene.animationGroups[0];
      engine.hideLoadingUI();
      group.start(false);
      group.pause();
      this.engine = engine;
      this.scene = scene;
      this.group = group;
      this.materials = Object.fromEntries(scene.materials.map((m) => [m.name, m]));
      this.animated = group.targetedAnimations.map((a) => a.animation.targetProperty);
      this.ready = true;
    } catch (err) {
      this.error = String(err && err.stack ? err.stack : err);
    }
  },
  seek(t) {
    // glTF keys are in seconds; Babylon's glTF loader runs its animation groups at 60 frames a second
    this.group.goToFrame(t * 60);
    this.scene.render();
  },
  // emissive colour x intensity of a material, with the animation at time t
  glowAt(t, name) {
    this.seek(t);
    const m = this.materials[name];
    const k = m.emissiveIntensity === undefined ? 1 : m.emissiveIntensity;
    return [m.emissiveColor.r * k, m.emissiveColor.g * k, m.emissiveColor.b * k];
  },
  // the mean of the rendered pixels' red + green (the neurons' yellow glow), at time t
  brightnessAt(t) {
    this.seek(t);
    const gl = this.engine._gl;
    const w = gl.drawingBufferWidth, h = gl.drawingBufferHeight;
    const px = new Uint8Array(w * h * 4);
    gl.readPixels(0, 0, w, h, gl.RGBA, gl.UNSIGNED_BYTE, px);
    let sum = 0;
    for (let i = 0; i < px.length; i += 4) sum += px[i] + px[i + 1];
    return sum / (w * h);
  },
};
