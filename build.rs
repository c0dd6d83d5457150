//! Compiles the Slint UI (`ui/app.slint`) with its bundled translations (`ui/translations/`).

fn main() {
    println!("cargo:rerun-if-changed=ui/translations");
    let config = slint_build::CompilerConfiguration::new()
        .with_style("fluent".into())
        .with_bundled_translations("ui/translations")
        // One translation a Chinese phrase, wherever it stands: no per-component context.
        .with_default_translation_context(slint_build::DefaultTranslationContext::None)
        // Accessible labels are how UI tests find elements; keep the debug info they need.
        .with_debug_info(true);
    slint_build::compile_with_config("ui/app.slint", config).expect("the UI compiles");
}
