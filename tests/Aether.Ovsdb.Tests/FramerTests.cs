using System.Text;
using System.Text.Json;
using Aether.Ovsdb.Internal;

namespace Aether.Ovsdb.Tests;

/// <summary>The framing of a stream of concatenated JSON values, without a socket.</summary>
public sealed class FramerTests
{
    // Braces and brackets inside strings, an escaped quote, an escaped backslash before a closing quote, and
    // multi-byte UTF-8: everything that could fool a depth counter.
    private const string Tricky = """{"id":7,"result":[{"rows":[{"name":"br{0}[","external_ids":["map",[["note","say \"}\" then \\"],["é","€ ✓"]]]}]}],"error":null}""";

    [Fact]
    public void A_value_split_at_every_byte_is_read_once_whole()
    {
        var bytes = Encoding.UTF8.GetBytes(Tricky);
        for (var cut = 1; cut < bytes.Length; cut++)
        {
            using var framer = new JsonValueFramer(initialSize: 16);
            framer.Append(bytes.AsSpan(0, cut));
            Assert.False(framer.TryRead(out _));
            framer.Append(bytes.AsSpan(cut));
            Assert.True(framer.TryRead(out var doc));
            using (doc)
            {
                Assert.Equal(Tricky, doc!.RootElement.GetRawText());
            }

            Assert.False(framer.TryRead(out _));
        }
    }

    [Fact]
    public void A_value_fed_byte_by_byte_is_read_when_its_last_byte_arrives()
    {
        var bytes = Encoding.UTF8.GetBytes(Tricky);
        using var framer = new JsonValueFramer(initialSize: 16);
        for (var i = 0; i < bytes.Length; i++)
        {
            framer.Append(bytes.AsSpan(i, 1));
            var complete = framer.TryRead(out var doc);
            Assert.Equal(i == bytes.Length - 1, complete);
            doc?.Dispose();
        }
    }

    [Fact]
    public void Several_values_in_one_read_come_out_in_order()
    {
        var text = "{\"id\":1,\"result\":{}}\n  {\"method\":\"echo\",\"params\":[],\"id\":\"echo\"}{\"id\":2,\"result\":[\"}\"]}\r\n[1,[2]]";
        using var framer = new JsonValueFramer();
        framer.Append(Encoding.UTF8.GetBytes(text));
        var values = new List<string>();
        while (framer.TryRead(out var doc))
        {
            using (doc)
            {
                values.Add(doc!.RootElement.GetRawText());
            }
        }

        Assert.Equal(["{\"id\":1,\"result\":{}}", "{\"method\":\"echo\",\"params\":[],\"id\":\"echo\"}", "{\"id\":2,\"result\":[\"}\"]}", "[1,[2]]"], values);
        Assert.Equal(0, framer.Buffered);
    }

    [Fact]
    public void The_end_of_one_value_and_the_start_of_the_next_in_one_read()
    {
        using var framer = new JsonValueFramer(initialSize: 16);
        framer.Append("{\"id\":1,\"res"u8);
        Assert.False(framer.TryRead(out _));
        framer.Append("ult\":5}{\"id\":2,"u8);
        Assert.True(framer.TryRead(out var first));
        using (first)
        {
            Assert.Equal(5, first!.RootElement.GetProperty("result").GetInt32());
        }

        Assert.False(framer.TryRead(out _));
        framer.Append("\"result\":6}"u8);
        Assert.True(framer.TryRead(out var second));
        using (second)
        {
            Assert.Equal(2, second!.RootElement.GetProperty("id").GetInt32());
        }
    }

    [Fact]
    public void A_value_larger_than_the_buffer_grows_it_and_survives_compaction()
    {
        var rows = string.Join(',', Enumerable.Range(0, 5000).Select(i => $"{{\"name\":\"port{i}\",\"tag\":{i % 4096}}}"));
        var text = $"{{\"id\":3,\"result\":[{{\"rows\":[{rows}]}}]}}";
        var bytes = Encoding.UTF8.GetBytes(text);
        using var framer = new JsonValueFramer(initialSize: 64);
        framer.Append("  {\"id\":0,\"result\":null} "u8);
        Assert.True(framer.TryRead(out var small));
        small!.Dispose();
        for (var i = 0; i < bytes.Length; i += 1000)
        {
            framer.Append(bytes.AsSpan(i, Math.Min(1000, bytes.Length - i)));
            if (i + 1000 < bytes.Length)
            {
                Assert.False(framer.TryRead(out _));
            }
        }

        Assert.True(framer.TryRead(out var doc));
        using (doc)
        {
            var parsed = doc!.RootElement.GetProperty("result")[0].GetProperty("rows");
            Assert.Equal(5000, parsed.GetArrayLength());
            Assert.Equal("port4999", parsed[4999].GetProperty("name").GetString());
        }
    }

    [Theory]
    [InlineData("42")]
    [InlineData("\"text\"")]
    [InlineData("null")]
    public void A_stream_that_is_not_objects_is_a_protocol_error(string text)
    {
        using var framer = new JsonValueFramer();
        framer.Append(Encoding.UTF8.GetBytes(text));
        var ex = Assert.Throws<OvsdbProtocolException>(() => framer.TryRead(out _));
        Assert.Contains("expected a JSON object", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Malformed_json_inside_balanced_braces_is_a_protocol_error_with_the_parser_text()
    {
        using var framer = new JsonValueFramer();
        framer.Append("{\"id\":1,,}"u8);
        var ex = Assert.Throws<OvsdbProtocolException>(() => framer.TryRead(out _));
        Assert.StartsWith("malformed JSON from the server: ", ex.Message, StringComparison.Ordinal);
        Assert.IsAssignableFrom<JsonException>(ex.InnerException);
    }

    [Fact]
    public void A_value_over_the_limit_is_refused_before_it_completes()
    {
        using var framer = new JsonValueFramer(initialSize: 16, maxMessageBytes: 100);
        framer.Append(Encoding.UTF8.GetBytes("{\"x\":\"" + new string('a', 200)));
        var ex = Assert.Throws<OvsdbProtocolException>(() => framer.TryRead(out _));
        Assert.Contains("larger than 100 bytes", ex.Message, StringComparison.Ordinal);
    }
}
