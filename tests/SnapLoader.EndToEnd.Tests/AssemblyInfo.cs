// Lambda runs Linux, and these tests publish for it and read Unix permissions.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
