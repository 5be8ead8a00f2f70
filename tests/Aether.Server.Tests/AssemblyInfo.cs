// The daemon and its tests are Linux only (unix sockets, file modes, namespaces).
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
