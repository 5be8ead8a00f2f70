// The daemon manages Linux network namespaces: unix sockets, file modes and statx are its ground.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
