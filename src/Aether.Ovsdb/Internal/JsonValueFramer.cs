using System.Buffers;
using System.Text.Json;

namespace Aether.Ovsdb.Internal;

/// <summary>
/// Splits a byte stream into JSON values. OVSDB's JSON-RPC has no length prefix: messages are JSON objects written
/// one after another (RFC 7047 section 4). Bytes are appended as they arrive, a value may end in a later read, a read
/// may hold several values; each byte is scanned once (nesting depth and string state carry over between reads),
/// and a value is parsed only when its last byte has arrived.
/// </summary>
/// <remarks>Usage: write into <see cref="GetMemory"/>, call <see cref="Advance"/>, then <see cref="TryRead"/> until it
/// returns false. The buffer is rented from the shared pool and returned on <see cref="Dispose"/>.</remarks>
internal sealed class JsonValueFramer : IDisposable
{
    /// <summary>The largest message accepted (a monitor's initial reply of a large database fits easily).</summary>
    public const int DefaultMaxMessageBytes = 64 << 20;

    private readonly int _maxMessageBytes;
    private byte[] _buffer;
    private int _start; // first byte not yet handed out
    private int _end; // end of the bytes received
    private int _scan; // next byte to scan
    private int _valueStart = -1; // where the value being scanned began, or -1 between values
    private int _depth;
    private bool _inString;
    private bool _escape;

    public JsonValueFramer(int initialSize = 16 << 10, int maxMessageBytes = DefaultMaxMessageBytes)
    {
        _buffer = ArrayPool<byte>.Shared.Rent(initialSize);
        _maxMessageBytes = maxMessageBytes;
    }

    /// <summary>Bytes received and not yet handed out as part of a value (whitespace between values aside).</summary>
    public int Buffered => _end - _start;

    /// <summary>Space to read at least <paramref name="sizeHint"/> bytes into.</summary>
    public Memory<byte> GetMemory(int sizeHint = 4096)
    {
        ObjectDisposedException.ThrowIf(_buffer.Length == 0, this);
        if (_buffer.Length - _end >= sizeHint)
        {
            return _buffer.AsMemory(_end);
        }

        // Move what is still wanted to the front; grow when that is not enough.
        var keep = _end - _start;
        var target = _buffer;
        if (keep + sizeHint > _buffer.Length)
        {
            target = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, keep + sizeHint));
        }

        Buffer.BlockCopy(_buffer, _start, target, 0, keep);
        if (!ReferenceEquals(target, _buffer))
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = target;
        }

        _scan -= _start;
        if (_valueStart >= 0)
        {
            _valueStart -= _start;
        }

        _end = keep;
        _start = 0;
        return _buffer.AsMemory(_end);
    }

    /// <summary>Marks <paramref name="count"/> bytes written into the memory <see cref="GetMemory"/> gave.</summary>
    public void Advance(int count)
    {
        if (count < 0 || _end + count > _buffer.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(count));
        }

        _end += count;
    }

    /// <summary>Appends <paramref name="bytes"/> (for tests and callers that have them already).</summary>
    public void Append(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(GetMemory(bytes.Length).Span);
        Advance(bytes.Length);
    }

    /// <summary>The next complete value, parsed (the caller disposes it); false when more bytes are needed.</summary>
    /// <exception cref="OvsdbProtocolException">The stream is not a sequence of JSON objects or arrays, a value is
    /// malformed, or one is larger than the limit.</exception>
    public bool TryRead(out JsonDocument? document)
    {
        document = null;
        var buffer = _buffer;
        while (_scan < _end)
        {
            var b = buffer[_scan];
            if (_valueStart < 0)
            {
                if (b is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r')
                {
                    _start = ++_scan;
                    continue;
                }

                if (b is not ((byte)'{' or (byte)'['))
                {
                    throw new OvsdbProtocolException($"expected a JSON object, got byte 0x{b:x2} ('{(char)b}')");
                }

                _valueStart = _scan++;
                _depth = 1;
                continue;
            }

            _scan++;
            if (_inString)
            {
                if (_escape)
                {
                    _escape = false;
                }
                else if (b == (byte)'\\')
                {
                    _escape = true;
                }
                else if (b == (byte)'"')
                {
                    _inString = false;
                }

                continue;
            }

            switch (b)
            {
                case (byte)'"':
                    _inString = true;
                    break;
                case (byte)'{' or (byte)'[':
                    _depth++;
                    break;
                case (byte)'}' or (byte)']' when --_depth == 0:
                    document = Parse(buffer.AsSpan(_valueStart, _scan - _valueStart));
                    _valueStart = -1;
                    _start = _scan;
                    return true;
            }
        }

        if (_valueStart >= 0 && _end - _valueStart > _maxMessageBytes)
        {
            throw new OvsdbProtocolException($"a message is larger than {_maxMessageBytes} bytes");
        }

        return false;
    }

    public void Dispose()
    {
        if (_buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = [];
        }
    }

    private static JsonDocument Parse(ReadOnlySpan<byte> value)
    {
        try
        {
            // ParseValue copies the bytes into the document: the buffer is reused as soon as this returns.
            var reader = new Utf8JsonReader(value, new JsonReaderOptions { MaxDepth = 64 });
            return JsonDocument.ParseValue(ref reader);
        }
        catch (JsonException ex)
        {
            throw new OvsdbProtocolException($"malformed JSON from the server: {ex.Message}", ex);
        }
    }
}
