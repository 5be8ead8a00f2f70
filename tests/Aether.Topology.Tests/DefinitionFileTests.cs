using System.Diagnostics;
using System.Text;

namespace Aether.Topology.Tests;

/// <summary>
/// Reading a definition file that is not a small regular UTF-8 file: each is refused with one error saying what it
/// is and what is allowed, without blocking and without reading more than the limit.
/// </summary>
public sealed class DefinitionFileTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private readonly string _dir = Directory.CreateTempSubdirectory("aet-deffile-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>The loader's one error for <paramref name="path"/>, run with a timeout: a read that blocks fails.</summary>
    private static async Task<TopologyError> RefusedAsync(string path)
    {
        var result = await Task.Run(() => TopologyLoader.LoadFile(path)).WaitAsync(Patience);
        Assert.Null(result.Topology);
        var error = Assert.Single(result.Errors);
        Assert.Equal(path, error.File);
        return error;
    }

    private string Fifo()
    {
        var path = Path.Combine(_dir, "topo.fifo");
        using var mkfifo = Process.Start(new ProcessStartInfo("mkfifo", [path]))!;
        mkfifo.WaitForExit();
        Assert.Equal(0, mkfifo.ExitCode);
        return path;
    }

    [Fact]
    public async Task A_fifo_without_a_writer_is_refused_at_once()
    {
        var fifo = Fifo();
        var watch = Stopwatch.StartNew();
        var error = await RefusedAsync(fifo);
        Assert.Equal((1, 1), (error.Line, error.Column));
        Assert.StartsWith("cannot read the file: it is a FIFO (named pipe), not a regular file; a definition is read from a regular file of at most 4194304 bytes", error.Message, StringComparison.Ordinal);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"took {watch.Elapsed}");
    }

    [Fact]
    public async Task A_fifo_with_a_writer_is_refused_without_reading_it()
    {
        var fifo = Fifo();
        var direct = await Task.Run(() => DefinitionFile.Read(fifo)).WaitAsync(Patience);
        Assert.Null(direct.Text);
        Assert.Contains("a FIFO (named pipe)", direct.Problem!.Message, StringComparison.Ordinal);

        // A writer that never stops (like `yes > fifo`): the reader must still answer.
        using var writer = new Process { StartInfo = new ProcessStartInfo("sh", ["-c", $"exec yes > '{fifo}'"]) };
        writer.Start();
        try
        {
            var error = await RefusedAsync(fifo);
            Assert.Contains("a FIFO (named pipe), not a regular file", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            writer.Kill();
            await writer.WaitForExitAsync();
        }
    }

    [Theory]
    [InlineData("/dev/zero")]
    [InlineData("/dev/urandom")]
    [InlineData("/dev/null")]
    public async Task A_character_device_is_refused(string device)
    {
        var error = await RefusedAsync(device);
        Assert.Equal("cannot read the file: it is a character device, not a regular file; a definition is read from a regular file of at most 4194304 bytes", error.Message);
    }

    [Fact]
    public async Task A_directory_is_refused()
    {
        var error = await RefusedAsync(_dir);
        Assert.StartsWith("cannot read the file: it is a directory, not a regular file", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_symlink_to_a_device_is_refused_as_the_device()
    {
        var link = Path.Combine(_dir, "topo.yaml");
        File.CreateSymbolicLink(link, "/dev/zero");
        var error = await RefusedAsync(link);
        Assert.StartsWith("cannot read the file: it is a character device", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_file_says_why()
    {
        var error = await RefusedAsync(Path.Combine(_dir, "absent.yaml"));
        Assert.Equal("cannot read the file: No such file or directory", error.Message);
    }

    [Fact]
    public async Task A_5_MiB_file_is_refused_with_the_limit()
    {
        var path = Path.Combine(_dir, "big.yaml");
        await File.WriteAllTextAsync(path, "name: x\n# " + new string('a', 5 * 1024 * 1024) + "\n");
        var error = await RefusedAsync(path);
        Assert.Equal("cannot read the file: it is 5242891 bytes, over the limit of 4194304 bytes (4 MiB)", error.Message);
    }

    [Fact]
    public async Task A_huge_sparse_file_is_refused_by_its_size_without_reading_it()
    {
        var path = Path.Combine(_dir, "sparse.yaml");
        using (var stream = File.Create(path))
        {
            stream.SetLength(1L << 40); // 1 TiB, no blocks
        }

        var watch = Stopwatch.StartNew();
        var error = await RefusedAsync(path);
        Assert.Equal("cannot read the file: it is 1099511627776 bytes, over the limit of 4194304 bytes (4 MiB)", error.Message);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"took {watch.Elapsed}");
    }

    [Fact]
    public async Task A_file_whose_size_lies_is_stopped_while_reading()
    {
        // /proc/kallsyms reports size 0 and holds several MiB (the kernel's symbols).
        var info = new FileInfo("/proc/kallsyms");
        Assert.Equal(0, info.Length);
        var error = await RefusedAsync("/proc/kallsyms");
        Assert.Equal("cannot read the file: it holds more than 4194304 bytes (its size said 0), over the limit of 4194304 bytes (4 MiB)", error.Message);
    }

    [Fact]
    public async Task A_file_just_at_the_limit_is_read()
    {
        var path = Path.Combine(_dir, "limit.yaml");
        var head = "name: x\n#";
        await File.WriteAllTextAsync(path, head + new string('a', DefinitionFile.MaxBytes - head.Length - 1) + "\n");
        Assert.Equal(DefinitionFile.MaxBytes, new FileInfo(path).Length);
        var result = await Task.Run(() => TopologyLoader.LoadFile(path)).WaitAsync(Patience);
        Assert.True(result.IsValid, string.Join('\n', result.Errors));
    }

    [Fact]
    public async Task A_proc_file_within_the_limit_is_read_though_its_size_says_0()
    {
        var read = await Task.Run(() => DefinitionFile.Read("/proc/self/mountinfo")).WaitAsync(Patience);
        Assert.Null(read.Problem);
        Assert.Contains(" / ", read.Text!, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new byte[] { 0xFF }, "byte 0xFF at byte offset 8 (line 2, column 1)")]
    [InlineData(new byte[] { 0xC3, 0x28 }, "byte 0xC3 at byte offset 8 (line 2, column 1)")]
    [InlineData(new byte[] { 0x23, 0x20, 0xED, 0xA0, 0x80 }, "byte 0xED at byte offset 10 (line 2, column 3)")] // a UTF-16 surrogate encoded
    [InlineData(new byte[] { 0x23, 0xC0, 0xAF }, "byte 0xC0 at byte offset 9 (line 2, column 2)")] // overlong '/'
    [InlineData(new byte[] { 0x23, 0x20, 0xE2, 0x82 }, "an incomplete sequence at the end at byte offset 10 (line 2, column 3)")]
    public async Task Bytes_that_are_not_utf8_are_refused_with_their_offset(byte[] tail, string what)
    {
        var path = Path.Combine(_dir, "latin1.yaml");
        await File.WriteAllBytesAsync(path, [.. "name: x\n"u8, .. tail]);
        var error = await RefusedAsync(path);
        Assert.Equal($"not UTF-8: {what}; definitions are UTF-8 text", error.Message);
        Assert.Equal(2, error.Line);
    }

    [Fact]
    public async Task A_byte_order_mark_and_multibyte_text_are_read()
    {
        var path = Path.Combine(_dir, "bom.yaml");
        await File.WriteAllBytesAsync(path, [0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes("# ünïcödé ✓ 🦀\nname: x\n")]);
        var result = await Task.Run(() => TopologyLoader.LoadFile(path)).WaitAsync(Patience);
        Assert.True(result.IsValid, string.Join('\n', result.Errors));
        Assert.Equal("x", result.Topology!.Name);
    }

    [Fact]
    public void A_text_over_the_limit_is_refused_before_parsing()
    {
        var result = TopologyLoader.Parse("name: x\nz: " + new string('a', 10 * 1024 * 1024) + "\n", "body");
        var error = Assert.Single(result.Errors);
        Assert.Equal("body:1:1: the definition is at least 10485772 bytes, over the limit of 4194304 bytes (4 MiB)", error.ToString());
    }

    [Fact]
    public void A_text_whose_utf8_is_over_the_limit_is_refused()
    {
        // 1.5 Mi characters of 3 UTF-8 bytes each: within the limit in characters, over it in bytes.
        var result = TopologyLoader.Parse("name: x\n# " + new string('✓', 1536 * 1024) + "\n", "body");
        var error = Assert.Single(result.Errors);
        Assert.StartsWith("the definition is at least 4718603 bytes, over the limit", error.Message, StringComparison.Ordinal);
    }
}
