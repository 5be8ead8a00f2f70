// The daemon, dockerd and their tests are Linux only (unix sockets, namespaces).
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
