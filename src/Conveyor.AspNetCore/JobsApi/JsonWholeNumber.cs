using System.Runtime.InteropServices;
using System.Text.Json;

namespace Conveyor.AspNetCore.JobsApi;

/// <summary>
/// Reads a JSON number as a whole number the way JSON Schema counts integers: <c>3</c>, <c>3.0</c> and <c>3e0</c> are
/// the integer 3, <c>3.5</c> is not one. The test is exact, on the digits as the client wrote them: a number read into a
/// decimal or a double first is rounded there (<c>2.99999999999999999999999999999</c> to 3, <c>1e-308</c> to 0), and would
/// pass for a whole number it is not.
/// </summary>
internal static class JsonWholeNumber
{
    /// <summary>
    /// The whole number <paramref name="value"/> holds; false for anything else, a fraction, or a number beyond a long.
    /// </summary>
    public static bool TryGet(JsonElement value, out long number)
    {
        number = 0;
        if (value.ValueKind != JsonValueKind.Number)
        {
            return false;
        }

        return value.TryGetInt64(out number) || TryParse(JsonMarshal.GetRawUtf8Value(value), out number);
    }

    /// <summary>As <see cref="TryGet(JsonElement, out long)"/>, within an int.</summary>
    public static bool TryGet(JsonElement value, out int number)
    {
        var whole = TryGet(value, out long wide) && wide is >= int.MinValue and <= int.MaxValue;
        number = whole ? (int)wide : 0;
        return whole;
    }

    /// <summary>
    /// Reads <paramref name="json"/>, a number as JSON spells it (<c>-?int(.frac)?([eE][+-]?exp)?</c>), as a long when
    /// its value is whole: its digits from the decimal point, moved by the exponent, on are all zeros.
    /// </summary>
    internal static bool TryParse(ReadOnlySpan<byte> json, out long number)
    {
        number = 0;
        var i = 0;
        var negative = i < json.Length && json[i] == (byte)'-';
        if (negative)
        {
            i++;
        }

        var intStart = i;
        while (i < json.Length && IsDigit(json[i]))
        {
            i++;
        }

        var intDigits = json[intStart..i];
        var fracDigits = ReadOnlySpan<byte>.Empty;
        if (i < json.Length && json[i] == (byte)'.')
        {
            var fracStart = ++i;
            while (i < json.Length && IsDigit(json[i]))
            {
                i++;
            }

            fracDigits = json[fracStart..i];
        }

        long exponent = 0;
        if (i < json.Length && (json[i] == (byte)'e' || json[i] == (byte)'E'))
        {
            i++;
            var negativeExponent = i < json.Length && json[i] == (byte)'-';
            if (i < json.Length && (json[i] == (byte)'-' || json[i] == (byte)'+'))
            {
                i++;
            }

            for (; i < json.Length && IsDigit(json[i]); i++)
            {
                // Beyond any body's length the exponent only says "far": clamping keeps the arithmetic in range.
                exponent = Math.Min(exponent * 10 + (json[i] - '0'), 1L << 40);
            }

            exponent = negativeExponent ? -exponent : exponent;
        }

        if (i != json.Length || intDigits.IsEmpty)
        {
            return false;
        }

        // The digits int ++ frac, read with the decimal point after digit `point` (zeros past either end).
        long count = intDigits.Length + fracDigits.Length;
        var point = intDigits.Length + exponent;
        long first = -1, last = -1;
        for (long d = 0; d < count; d++)
        {
            if (Digit(intDigits, fracDigits, d) != 0)
            {
                first = first < 0 ? d : first;
                last = d;
            }
        }

        if (first < 0)
        {
            return true;
        }

        if (last >= point || point - first > 19)
        {
            return false;
        }

        ulong magnitude = 0;
        for (var d = first; d < point; d++)
        {
            magnitude = magnitude * 10 + (ulong)(d < count ? Digit(intDigits, fracDigits, d) : 0);
        }

        if (magnitude > (negative ? (ulong)long.MaxValue + 1 : long.MaxValue))
        {
            return false;
        }

        number = negative ? -(long)(magnitude - 1) - 1 : (long)magnitude;
        return true;
    }

    private static bool IsDigit(byte c) => c is >= (byte)'0' and <= (byte)'9';

    private static int Digit(ReadOnlySpan<byte> intDigits, ReadOnlySpan<byte> fracDigits, long index) =>
        (index < intDigits.Length ? intDigits[(int)index] : fracDigits[(int)(index - intDigits.Length)]) - '0';
}
