// memfd_create, /proc/self/fd and the preload shim exist on Linux only, as does Lambda's runtime.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
