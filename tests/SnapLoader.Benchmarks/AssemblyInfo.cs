// memfds, /proc and the runtime itself are Linux-only; so is every measurement here.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
