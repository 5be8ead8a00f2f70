using System.Globalization;
using System.Text;

namespace Aether.Netlink;

/// <summary>
/// A failure reported by the kernel (or a system call) while doing something to a named object:
/// <c>create veth veth-host: EEXIST (File exists): the kernel's extended-ack text</c>.
/// </summary>
public class NetlinkException : IOException
{
    /// <summary>Creates an exception for <paramref name="errno"/> with the operation and object it was about.</summary>
    public NetlinkException(int errno, string? operation, string? target, string? kernelMessage = null, int? attributeOffset = null)
        : base(Format(errno, operation, target, kernelMessage), -errno)
    {
        Errno = errno;
        Operation = operation;
        Target = target;
        KernelMessage = kernelMessage;
        AttributeOffset = attributeOffset;
    }

    /// <summary>The positive errno value.</summary>
    public int Errno { get; }

    /// <summary>The errno's symbolic name (<c>EEXIST</c>).</summary>
    public string ErrnoName => Netlink.Errno.Name(Errno);

    /// <summary>What was being done (<c>create veth</c>).</summary>
    public string? Operation { get; }

    /// <summary>The object it was done to (<c>veth-host</c>).</summary>
    public string? Target { get; }

    /// <summary>The kernel's extended-ack message (<c>NLMSGERR_ATTR_MSG</c>), when it gave one.</summary>
    public string? KernelMessage { get; }

    /// <summary>The byte offset in the request of the attribute the kernel blamed (<c>NLMSGERR_ATTR_OFFS</c>).</summary>
    public int? AttributeOffset { get; }

    /// <summary>Builds the exception for the calling thread's last P/Invoke error.</summary>
    internal static NetlinkException FromLastError(string operation, string? target) =>
        new(System.Runtime.InteropServices.Marshal.GetLastPInvokeError(), operation, target);

    private static string Format(int errno, string? operation, string? target, string? kernelMessage)
    {
        var sb = new StringBuilder();
        if (operation is not null)
        {
            sb.Append(operation);
            if (target is not null)
            {
                sb.Append(' ').Append(target);
            }

            sb.Append(": ");
        }

        sb.Append(Netlink.Errno.Name(errno)).Append(" (").Append(Netlink.Errno.Message(errno)).Append(')');
        if (!string.IsNullOrEmpty(kernelMessage))
        {
            sb.Append(": ").Append(kernelMessage);
        }

        return sb.ToString();
    }

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{GetType().Name}: {Message}");
}

/// <summary>A dump the kernel marked <c>NLM_F_DUMP_INTR</c>: the table changed while it was read. Carries what was read.</summary>
/// <typeparam name="T">The record type of the dump.</typeparam>
public sealed class DumpInterruptedException<T> : NetlinkException
{
    /// <summary>Creates the exception with the partial results.</summary>
    public DumpInterruptedException(string operation, IReadOnlyList<T> partial)
        : base(Netlink.Errno.EINTR, operation, null, "dump interrupted: the kernel's table changed while it was read; results are partial")
    {
        PartialResults = partial;
    }

    /// <summary>The records read before and after the interruption; possibly inconsistent.</summary>
    public IReadOnlyList<T> PartialResults { get; }
}

/// <summary>Bytes that are not a well-formed netlink message or attribute.</summary>
public sealed class NetlinkParseException : IOException
{
    /// <summary>Creates the exception.</summary>
    public NetlinkParseException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public NetlinkParseException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public NetlinkParseException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
