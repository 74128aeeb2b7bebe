//! The `uniffi-bindgen` command of this workspace's uniffi version: it
//! generates the Kotlin, Swift and Python sources from the built library
//! (`make uniffi`).
fn main() {
    uniffi::uniffi_bindgen_main()
}
