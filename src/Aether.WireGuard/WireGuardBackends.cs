using Aether.Netlink;
using Aether.Netlink.Generic;
using Aether.Netlink.Namespaces;
using Aether.WireGuard.Kernel;
using Aether.WireGuard.Userspace;

namespace Aether.WireGuard;

/// <summary>
/// Chooses the WireGuard implementation at run time: the kernel's when its <c>wireguard</c> generic netlink family
/// resolves (the lookup also makes the kernel load the module when it can), wireguard-go when the lookup says
/// <c>ENOENT</c>. Any other failure of the lookup is reported, not taken as "no WireGuard".
/// </summary>
public static class WireGuardBackends
{
    /// <summary>Opens the backend for <paramref name="target"/> (null: the process's namespace).</summary>
    /// <exception cref="WireGuardException">The kernel was required and has no WireGuard; or wireguard-go was needed
    /// and is not installed.</exception>
    /// <exception cref="NetlinkException">The family lookup failed for another reason.</exception>
    public static async Task<IWireGuardBackend> OpenAsync(NetworkNamespace? target = null, WireGuardBackendOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= WireGuardBackendOptions.Default;
        options.Validate();
        var kind = await ChooseAsync(options.Preference, ResolveAsync, cancellationToken).ConfigureAwait(false);
        return kind == WireGuardBackendKind.Kernel
            ? await KernelWireGuardBackend.OpenAsync(target, cancellationToken).ConfigureAwait(false)
            : UserspaceWireGuardBackend.Open(target, options);
    }

    /// <summary>The choice, given how to look the family up: pure apart from <paramref name="resolve"/>.</summary>
    internal static async Task<WireGuardBackendKind> ChooseAsync(WireGuardBackendPreference preference, Func<CancellationToken, Task<GenericFamily>> resolve, CancellationToken cancellationToken)
    {
        if (preference == WireGuardBackendPreference.Userspace)
        {
            return WireGuardBackendKind.Userspace;
        }

        try
        {
            await resolve(cancellationToken).ConfigureAwait(false);
            return WireGuardBackendKind.Kernel;
        }
        catch (NetlinkException ex) when (ex.Errno == Errno.ENOENT)
        {
            if (preference == WireGuardBackendPreference.Kernel)
            {
                throw new WireGuardException(Errno.ENOENT, "open kernel wireguard backend", Kernel.WgGenl.Name, "the kernel has no WireGuard: generic netlink family 'wireguard' not found (module missing or not loadable)");
            }

            return WireGuardBackendKind.Userspace;
        }
    }

    private static async Task<GenericFamily> ResolveAsync(CancellationToken cancellationToken)
    {
        using var genl = GenericNetlinkHandle.Open();
        return await genl.ResolveFamilyAsync(Kernel.WgGenl.Name, cancellationToken).ConfigureAwait(false);
    }
}
