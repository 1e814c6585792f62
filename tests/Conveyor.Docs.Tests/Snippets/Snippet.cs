namespace Conveyor.Docs.Tests.Snippets;

/// <summary>One C# block of a markdown file.</summary>
/// <param name="Path">The markdown file, relative to the repository root (how errors name it).</param>
/// <param name="Line">The markdown line of the block's first line of code.</param>
/// <param name="Kind">How the block becomes C#.</param>
/// <param name="Parameters">For <see cref="SnippetKind.Method"/>: the wrapping method's parameter list.</param>
/// <param name="Web">True when the block is compiled with the implicit usings of a web project.</param>
/// <param name="Code">The block's text, without the fences.</param>
public sealed record Snippet(string Path, int Line, SnippetKind Kind, string Parameters, bool Web, string Code);
