using Conveyor.Storage;

namespace Conveyor.Tests.Storage;

/// <summary>A cursor is only the text a listing handed out: text with anything added is no cursor, not another position.</summary>
public sealed class JobCursorTests
{
    private const string Base64UrlCharacters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    [Theory]
    [InlineData("job_0123456789abcdef0123456789abcdef")]
    [InlineData("job_0123456789abcdef0123456789abcde")]
    [InlineData("job_0123456789abcdef0123456789abcd")]
    [InlineData("batch_0123456789abcdef0123456789abcdef")]
    public void Decode_OfTheEncodedCursor_IsIt(string id)
    {
        var cursor = new JobCursor(1_796_474_745_718_491, id);

        Assert.True(JobCursor.TryDecode(cursor.Encode(), out var decoded));
        Assert.Equal(cursor, decoded);
    }

    [Theory]
    [InlineData("job_0123456789abcdef0123456789abcdef")]
    [InlineData("job_0123456789abcdef0123456789abcde")]
    [InlineData("job_0123456789abcdef0123456789abcd")]
    [InlineData("batch_0123456789abcdef0123456789abcdef")]
    public void Decode_OfTheCursorWithOneOrTwoCharactersAdded_Fails(string id)
    {
        // Ids of three lengths leave the encoding's last group full, one or two characters short: each adds bits differently.
        var text = new JobCursor(1_796_474_745_718_491, id).Encode();

        foreach (var first in Base64UrlCharacters)
        {
            Assert.False(JobCursor.TryDecode(text + first, out _), text + first);
            foreach (var second in Base64UrlCharacters)
            {
                Assert.False(JobCursor.TryDecode(text + first + second, out _), text + first + second);
            }
        }
    }

    [Theory]
    [InlineData("1796474745718491|")]
    [InlineData("1796474745718491||")]
    [InlineData("1796474745718491|job_1")]
    [InlineData("1796474745718491|job_1|x")]
    public void Decode_OfTextWithoutAnIdBetweenItsBars_Fails(string decoded) =>
        Assert.False(JobCursor.TryDecode(Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(decoded)).TrimEnd('=').Replace('+', '-').Replace('/', '_'), out _));
}
