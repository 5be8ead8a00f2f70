namespace Aether.Netlink.IntegrationTests.Infrastructure;

/// <summary>
/// A private stand-in for <c>/run/netns</c>: <c>/tmp/TOKEN-XXXX/</c> made a private mount of its own (nothing mounted
/// under it propagates anywhere), with the watched directory <c>ROOT/run/netns</c> below it, which does not exist until
/// a test makes it. Namespaces are put there the way <c>ip netns add</c> does it: an empty file first, then a bind
/// mount of a namespace onto it (from a separate <c>mount</c> process, so the create-then-mount window is real).
/// Disposing unmounts everything below the root and removes it.
/// </summary>
public sealed class PrivateNetnsDirectory : IAsyncDisposable
{
    private readonly string _root;

    private PrivateNetnsDirectory(string root)
    {
        _root = root;
        Path = System.IO.Path.Combine(root, "run", "netns");
    }

    /// <summary>The directory to watch (absent at first).</summary>
    public string Path { get; }

    /// <summary>Its parent (<c>ROOT/run</c>, also absent at first).</summary>
    public string Parent => System.IO.Path.GetDirectoryName(Path)!;

    public static async Task<PrivateNetnsDirectory> CreateAsync(string token)
    {
        var root = Directory.CreateTempSubdirectory(token + "-").FullName;
        await MustAsync("mount", "--bind", root, root);
        await MustAsync("mount", "--make-private", root);
        return new PrivateNetnsDirectory(root);
    }

    /// <summary>Makes the directory (and its parent).</summary>
    public void CreateDirectory() => Directory.CreateDirectory(Path);

    /// <summary>Removes the (empty) directory.</summary>
    public void RemoveDirectory() => Directory.Delete(Path);

    /// <summary>Makes entry <paramref name="name"/>, then bind-mounts the namespace at <paramref name="source"/> onto it.</summary>
    public async Task<string> AddAsync(string name, string source)
    {
        var entry = System.IO.Path.Combine(Path, name);
        await File.WriteAllBytesAsync(entry, []);
        await MustAsync("mount", "--bind", source, entry);
        return entry;
    }

    /// <summary>What <c>ip netns del</c> does: unmount the entry, then remove it.</summary>
    public async Task RemoveAsync(string name)
    {
        var entry = System.IO.Path.Combine(Path, name);
        await MustAsync("umount", "-l", entry);
        File.Delete(entry);
    }

    public async ValueTask DisposeAsync()
    {
        await Ip.ExecAsync("umount", "-R", "-l", _root);
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    private static async Task MustAsync(string program, params string[] args)
    {
        var (code, _, stderr) = await Ip.ExecAsync(program, args);
        if (code != 0)
        {
            throw new InvalidOperationException($"`{program} {string.Join(' ', args)}` exited {code}: {stderr.Trim()}");
        }
    }
}
