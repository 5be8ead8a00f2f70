using Aether.Netlink.Namespaces;

namespace Aether.WireGuard.Tests.Reconcile;

/// <summary>A backend that is never called: for diffs, which do no I/O.</summary>
internal sealed class FakeBackend : IWireGuardBackend
{
    public event EventHandler<WireGuardDeviceEventArgs>? DeviceChanged { add { } remove { } }

    public WireGuardBackendKind Kind => WireGuardBackendKind.Userspace;

    public NetworkNamespace? TargetNamespace => null;

    public HashSet<string> Supervised { get; } = new(StringComparer.Ordinal);

    public Task CreateDeviceAsync(string name, CancellationToken cancellationToken = default) => throw new InvalidOperationException("a diff did I/O");

    public Task DeleteDeviceAsync(string name, CancellationToken cancellationToken = default) => throw new InvalidOperationException("a diff did I/O");

    public Task<WireGuardDevice?> GetDeviceAsync(string name, CancellationToken cancellationToken = default) => throw new InvalidOperationException("a diff did I/O");

    public Task ConfigureDeviceAsync(string name, WireGuardDeviceConfig config, CancellationToken cancellationToken = default) => throw new InvalidOperationException("a diff did I/O");

    public bool Supervises(string name) => Supervised.Contains(name);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
