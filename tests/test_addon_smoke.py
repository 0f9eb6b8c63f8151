def test_build_default(bpy_env):
    bpy = bpy_env
    assert hasattr(bpy.types.Scene, "nna")
    res = bpy.ops.nna.build_network()
    assert res == {"FINISHED"}
    obs = [o for o in bpy.data.objects if o.get("nna_role") == "neuron"]
    assert len(obs) == 8
