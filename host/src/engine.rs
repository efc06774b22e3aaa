//! The Wasmtime engine: components (with the async ABI that WASI 0.3
//! needs), async host calls, epoch interruption for CPU limits, and
//! compiled code cached on disk so that a second run of the same component
//! skips compilation.
//!
//! Epoch interruption makes Cranelift put a check of the epoch into every
//! function entry and loop back-edge of the guest, which slows guest code
//! down whether or not a deadline is ever reached, so an engine has it only
//! when a CPU limit needs it.

use std::path::{Path, PathBuf};

use wasmtime::{Cache, CacheConfig, Config, Engine};

/// Where compiled code is cached.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum CacheSetting {
    /// `$XDG_CACHE_HOME/wasio` or `~/.cache/wasio`.
    #[default]
    Default,
    /// A directory of the caller's choosing.
    Dir(PathBuf),
    /// Compile every time.
    Disabled,
}

impl CacheSetting {
    /// The directory this setting caches into, if any.
    pub fn directory(&self) -> Option<PathBuf> {
        match self {
            CacheSetting::Default => default_cache_dir(),
            // Wasmtime wants an absolute cache directory.
            CacheSetting::Dir(dir) => {
                Some(std::path::absolute(dir).unwrap_or_else(|_| dir.clone()))
            }
            CacheSetting::Disabled => None,
        }
    }
}

/// `$XDG_CACHE_HOME/wasio`, else `$HOME/.cache/wasio`.
pub fn default_cache_dir() -> Option<PathBuf> {
    let non_empty = |name| std::env::var_os(name).filter(|v| !v.is_empty());
    non_empty("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| non_empty("HOME").map(|home| Path::new(&home).join(".cache")))
        .map(|base| base.join("wasio"))
}

/// Build the engine every instance of a host shares; `metered`: with
/// epoch interruption, for CPU limits.
pub fn new_engine(cache: &CacheSetting, metered: bool) -> wasmtime::Result<Engine> {
    let mut config = Config::new();
    config
        .wasm_component_model(true)
        .wasm_component_model_async(true)
        .epoch_interruption(metered)
        .parallel_compilation(true);
    if let Some(dir) = cache.directory() {
        let mut cache_config = CacheConfig::new();
        cache_config.with_directory(&dir);
        config.cache(Some(Cache::new(cache_config)?));
        tracing::debug!(dir = %dir.display(), "compiled-code cache");
    }
    Engine::new(&config)
}
