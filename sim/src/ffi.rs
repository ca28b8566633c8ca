//! The cxx bridge to the generated C++ models (see cpp/model.h).

#[cxx::bridge]
pub(crate) mod bridge {
    unsafe extern "C++" {
        include!("model.h");

        type Model;

        fn new_model(name: &str) -> UniquePtr<Model>;
        fn eval(self: Pin<&mut Model>);
        fn tick(self: Pin<&mut Model>);
        fn set(self: Pin<&mut Model>, port: u32, v: u64);
        fn set_wide(self: Pin<&mut Model>, port: u32, w: &[u32]);
        fn get(self: &Model, port: u32) -> u64;
        fn get_wide(self: &Model, port: u32, w: &mut [u32]);
        fn open_trace(self: Pin<&mut Model>, path: &str) -> Result<()>;
        fn close_trace(self: Pin<&mut Model>);
        fn time(self: &Model) -> u64;
    }
}
