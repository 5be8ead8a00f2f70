using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Aether.Labs.Tests.Files;

/// <summary>
/// Lab files and profile files that are not small regular UTF-8 YAML: each is one error (file, line, column) saying
/// what it is and the limit, found without blocking, without reading past the limit and before YamlDotNet recurses.
/// </summary>
public sealed class HostileFileTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private readonly TempDirectory _dir = new("aet-labfile-");

    public void Dispose() => _dir.Dispose();

    private static string Repeat(string text, int count) => new StringBuilder(text.Length * count).Insert(0, text, count).ToString();

    /// <summary>The one error from both the lab loader and the profile loader for <paramref name="path"/>, each run with
    /// a timeout: a read that blocks fails the test. Both must say the same.</summary>
    private static async Task<LabError> RefusedAsync(string path)
    {
        var lab = await Task.Run(() => LabLoader.Load(path)).WaitAsync(Patience);
        Assert.Null(lab.Lab);
        Assert.Null(lab.Text);
        var error = Assert.Single(lab.Errors);
        Assert.Equal(path, error.File);

        var profiles = await Task.Run(() => InterfaceProfiles.LoadFile(path)).WaitAsync(Patience);
        Assert.Null(profiles.Profiles);
        Assert.Equal(error, Assert.Single(profiles.Errors));
        return error;
    }

    private string Fifo()
    {
        var path = Path.Combine(_dir.Path, "lab.fifo");
        using var mkfifo = Process.Start(new ProcessStartInfo("mkfifo", [path]))!;
        mkfifo.WaitForExit();
        Assert.Equal(0, mkfifo.ExitCode);
        return path;
    }

    [Fact]
    public async Task A_fifo_is_refused_without_blocking()
    {
        var fifo = Fifo();
        var error = await RefusedAsync(fifo);
        Assert.Equal((1, 1), (error.Line, error.Column));
        Assert.Equal("cannot read the file: it is a FIFO (named pipe), not a regular file; a definition is read from a regular file of at most 4194304 bytes", error.Message);
    }

    [Theory]
    [InlineData("/dev/zero")]
    [InlineData("/dev/urandom")]
    [InlineData("/dev/tty")]
    public async Task A_character_device_is_refused(string device)
    {
        var error = await RefusedAsync(device);
        Assert.True(
            error.Message.StartsWith("cannot read the file: it is a character device, not a regular file", StringComparison.Ordinal)
            || (device == "/dev/tty" && error.Message.StartsWith("cannot read the file: No such device or address", StringComparison.Ordinal)),
            error.Message);
    }

    [Fact]
    public async Task A_directory_is_refused() =>
        Assert.StartsWith("cannot read the file: it is a directory, not a regular file", (await RefusedAsync(_dir.Path)).Message, StringComparison.Ordinal);

    [Fact]
    public async Task A_5_MiB_file_is_refused_with_the_limit()
    {
        var path = Path.Combine(_dir.Path, "big.yaml");
        await File.WriteAllBytesAsync(path, new byte[5 * 1024 * 1024]);
        Assert.Equal("cannot read the file: it is 5242880 bytes, over the limit of 4194304 bytes (4 MiB)", (await RefusedAsync(path)).Message);
    }

    [Fact]
    public async Task Latin1_text_is_refused_with_the_offset()
    {
        var path = Path.Combine(_dir.Path, "latin1.yaml");
        await File.WriteAllBytesAsync(path, [.. "name: x\nnodes:\n  r"u8, 0xE9, .. ": { kind: linux }\n"u8]);
        var error = await RefusedAsync(path);
        Assert.Equal((3, 4), (error.Line, error.Column));
        Assert.Equal("not UTF-8: byte 0xE9 at byte offset 18 (line 3, column 4); definitions are UTF-8 text", error.Message);
    }

    [Fact]
    public async Task A_valid_lab_file_is_still_read()
    {
        var path = Path.Combine(_dir.Path, "lab.yaml");
        await File.WriteAllTextAsync(path, "name: x\nnodes:\n  r1: { kind: linux }\n  r2: { kind: linux }\nlinks:\n  - endpoints: [r1:eth1, r2:eth1]\n");
        var result = await Task.Run(() => LabLoader.Load(path)).WaitAsync(Patience);
        Assert.True(result.IsValid, string.Join('\n', result.Errors));
        Assert.Equal(path, result.Lab!.SourcePath);
    }

    // ---- structure, through the text parsers (what a request's body goes through) ----

    public static TheoryData<string, string> Exhausting => new()
    {
        { "name: x\nnodes: " + Repeat("[", 10_000) + Repeat("]", 10_000) + "\n", "nested deeper than 64 levels of mappings and lists (the limit)" },
        { "name: x\nnodes: " + Repeat("{a: ", 10_000) + "1" + Repeat("}", 10_000) + "\n", "nested deeper than 64 levels of mappings and lists (the limit)" },
        { "name: x\nnodes:\n" + Repeat("- ", 5_000) + "1\n", "nested deeper than 64 levels of mappings and lists (the limit)" },
        { Laughs(), "more than 250000 nodes (the limit; an alias counts the nodes it stands for each time it is used)" },
        { "name: x\nnodes: [" + Repeat("1,", 300_000) + "1]\n", "more than 250000 nodes (the limit; an alias counts the nodes it stands for each time it is used)" },
        { "name: x\nnodes: &n { r1: { kind: linux, exec: [ *n ] } }\n", "alias *n is inside the node it names (&n): a structure without end" },
        // Found by the fuzzer: an alias before its anchor (here a key) overflowed the stack in YamlDotNet.
        { "*a1 : x\nname: &a1 lab\nnodes: {}\n", "alias *a1 names no anchor before it (an alias must come after its &a1)" },
        { "name: x\nnodes:\n  r1: { kind: *k }\n  r2: { kind: &k linux }\n", "alias *k names no anchor before it (an alias must come after its &k)" },
        { "name: x\nnodes:\n  r1: { kind: linux, exec: [\"" + new string('a', 70_000) + "\"] }\n", "a scalar of 70000 characters, over the limit of 65536" },
        { "name: x\nnodes:\n  r1: { kind: linux, exec: [\"" + new string('a', 10_000_000) + "\"] }\n", "the definition is at least 10000049 bytes, over the limit of 4194304 bytes (4 MiB)" },
    };

    private static string Laughs()
    {
        var yaml = new StringBuilder("name: x\nnodes:\n  r1: { kind: linux, exec: [ &a [lol,lol,lol,lol,lol,lol,lol,lol,lol,lol] ] }\n");
        for (var c = 'b'; c <= 'j'; c++)
        {
            yaml.Append(CultureInfo.InvariantCulture, $"  {c}: {{ kind: linux, exec: [ &{c} [{string.Join(',', Enumerable.Repeat($"*{(char)(c - 1)}", 10))}] ] }}\n");
        }

        return yaml.ToString();
    }

    [Theory]
    [MemberData(nameof(Exhausting))]
    public void A_lab_text_that_exhausts_the_parser_is_one_error(string yaml, string message)
    {
        var result = LabLoader.Parse(yaml, "definition");
        Assert.Null(result.Lab);
        Assert.Equal(message, Assert.Single(result.Errors).Message);
    }

    [Theory]
    [MemberData(nameof(Exhausting))]
    public void A_profile_text_that_exhausts_the_parser_is_one_error(string yaml, string message)
    {
        var result = InterfaceProfiles.Parse(yaml.Replace("name: x\nnodes:", "kinds:", StringComparison.Ordinal), "profiles.yaml");
        Assert.Null(result.Profiles);
        var error = Assert.Single(result.Errors).Message;
        if (message.StartsWith("the definition is", StringComparison.Ordinal))
        {
            // The text is shorter by the replaced keys: the same limit, another byte count.
            Assert.StartsWith("the definition is at least 1000004", error, StringComparison.Ordinal);
            Assert.EndsWith(" bytes, over the limit of 4194304 bytes (4 MiB)", error, StringComparison.Ordinal);
        }
        else
        {
            Assert.Equal(message, error);
        }
    }
}
