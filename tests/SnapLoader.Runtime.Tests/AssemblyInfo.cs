// SnapLoader.Runtime runs on Linux only (memfd, /proc/self/fd, the preload shim), and so do these tests.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
