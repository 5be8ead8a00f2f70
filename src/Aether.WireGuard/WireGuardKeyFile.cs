using System.Runtime.Versioning;
using System.Text;

namespace Aether.WireGuard;

/// <summary>
/// A private key kept in a file of its own, as <c>wg genkey</c> writes it (base64 and a newline): created with mode
/// 0600 in directories of mode 0700, written to a temporary file that is synced and then renamed into place (never a
/// half-written key), and refused on reading when its group or others may read or write it.
/// </summary>
[SupportedOSPlatform("linux")]
public static class WireGuardKeyFile
{
    private const UnixFileMode Others = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite;
    private const UnixFileMode Owner = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode OwnerDirectory = Owner | UnixFileMode.UserExecute;

    /// <summary>The key kept at <paramref name="path"/>, or null when there is no such file. <paramref name="what"/>
    /// names the key in messages (<c>the generated private key of wg0</c>).</summary>
    /// <exception cref="InvalidOperationException">The file's mode lets others than its owner read or write it, or it
    /// holds no private key (the message says how to fix either).</exception>
    public static WireGuardSecretKey? Read(string path, string what)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
        {
            return null;
        }

        var mode = File.GetUnixFileMode(path);
        if ((mode & Others) != UnixFileMode.None)
        {
            throw new InvalidOperationException($"{path}: {what} is readable by others than its owner (mode {Convert.ToString((int)mode, 8)}); chmod 600 it, or delete it to have a new key made");
        }

        return WireGuardSecretKey.TryParse(File.ReadAllText(path).Trim(), out var key) && !key.IsZero
            ? key
            : throw new InvalidOperationException($"{path}: not a WireGuard private key (delete it to have a new key made)");
    }

    /// <summary>Writes <paramref name="key"/> to <paramref name="path"/> (replacing it): a temporary file created
    /// 0600 beside it, synced, then renamed; missing directories are made with mode 0700.</summary>
    public static void Write(string path, WireGuardSecretKey key)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        _ = Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!, OwnerDirectory);
        var temporary = path + ".tmp";
        using (var stream = new FileStream(temporary, new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, UnixCreateMode = Owner }))
        {
            File.SetUnixFileMode(temporary, Owner); // also when it existed
            stream.Write(Encoding.ASCII.GetBytes(key.ToBase64() + "\n"));
            stream.Flush(flushToDisk: true);
        }

        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>The key kept at <paramref name="path"/>; a new one is generated and kept there when there is
    /// none.</summary>
    /// <exception cref="InvalidOperationException">As <see cref="Read"/>.</exception>
    public static WireGuardSecretKey ReadOrCreate(string path, string what)
    {
        if (Read(path, what) is { } kept)
        {
            return kept;
        }

        var key = WireGuardSecretKey.GeneratePrivate();
        Write(path, key);
        return key;
    }
}
