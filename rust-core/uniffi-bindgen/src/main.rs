//! `uniffi-bindgen generate --library libphonehome_ffi.so --language kotlin --out-dir DIR`
fn main() {
    uniffi::uniffi_bindgen_main()
}
