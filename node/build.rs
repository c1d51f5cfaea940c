//! Links the addon against the Node-API symbols the loading process provides.

fn main() {
    napi_build::setup();
}
