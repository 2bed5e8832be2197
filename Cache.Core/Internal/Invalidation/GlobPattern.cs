using System.Text;

namespace OptimizedCache.Cache.Core.Internal.Invalidation;

/// <summary>
/// A Redis glob pattern (<c>KEYS</c>/<c>SCAN MATCH</c> syntax) compiled once: <c>*</c> any run of characters,
/// <c>?</c> one character, <c>[abc]</c>, <c>[a-z]</c> and <c>[^abc]</c> sets, <c>\x</c> a literal <c>x</c>. The same
/// pattern selects L1 keys here and L2 keys through SCAN, so it follows Redis' <c>stringmatchlen</c> rules (an
/// unterminated set runs to the end of the pattern; a reversed range matches either way round). Matching is over
/// UTF-16 characters where Redis matches bytes, which differs only for <c>?</c> and sets against non-ASCII text.
/// </summary>
/// <remarks>
/// Matching uses the single-backtrack algorithm (only the last <c>*</c> is retried), so it runs in
/// O(pattern × key) whatever the pattern: no exponential blow-up on <c>*a*a*a*…b</c>.
/// </remarks>
internal sealed class GlobPattern
{
    private enum TokenKind : byte
    {
        Literal,
        AnyOne,
        AnyRun,
        Set,
    }

    private readonly record struct Token(TokenKind Kind, char Literal, (char Low, char High)[]? Ranges, bool Negated);

    private readonly Token[] _tokens;

    private GlobPattern(string text, Token[] tokens)
    {
        Text = text;
        _tokens = tokens;
    }

    /// <summary>The pattern as given.</summary>
    public string Text { get; }

    /// <summary>
    /// Whether the pattern matches every key (only <c>*</c>, with at most one <c>?</c>, since keys are never empty):
    /// such a pattern is refused, clearing everything has its own call.
    /// </summary>
    public bool MatchesEverything
    {
        get
        {
            var stars = 0;
            var ones = 0;
            foreach (var token in _tokens)
            {
                switch (token.Kind)
                {
                    case TokenKind.AnyRun: stars++; break;
                    case TokenKind.AnyOne: ones++; break;
                    default: return false;
                }
            }

            return stars > 0 && ones <= 1;
        }
    }

    /// <summary>The text before the first wildcard, unescaped (a fast pre-filter: keys without it cannot match).</summary>
    public string LiteralPrefix { get; private set; } = "";

    /// <summary>Compiles a pattern; a pattern with a trailing lone <c>\</c> treats it as a literal backslash, as Redis does.</summary>
    public static GlobPattern Compile(string pattern)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        var tokens = new List<Token>(pattern.Length);
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            switch (c)
            {
                case '*':
                    // consecutive stars are one star
                    if (tokens.Count == 0 || tokens[^1].Kind != TokenKind.AnyRun)
                    {
                        tokens.Add(new Token(TokenKind.AnyRun, default, null, false));
                    }

                    break;
                case '?':
                    tokens.Add(new Token(TokenKind.AnyOne, default, null, false));
                    break;
                case '[':
                    i = ParseSet(pattern, i + 1, tokens);
                    break;
                case '\\' when i + 1 < pattern.Length:
                    tokens.Add(new Token(TokenKind.Literal, pattern[++i], null, false));
                    break;
                default:
                    tokens.Add(new Token(TokenKind.Literal, c, null, false));
                    break;
            }
        }

        var compiled = new GlobPattern(pattern, [.. tokens]);
        var prefix = new StringBuilder();
        foreach (var token in compiled._tokens)
        {
            if (token.Kind != TokenKind.Literal)
            {
                break;
            }

            prefix.Append(token.Literal);
        }

        compiled.LiteralPrefix = prefix.ToString();
        return compiled;
    }

    // Redis: '[' then optional '^', then items until ']' (or the end of the pattern); '\x' is a literal x; 'a-b' a range.
    private static int ParseSet(string pattern, int i, List<Token> tokens)
    {
        var negated = false;
        if (i < pattern.Length && pattern[i] == '^')
        {
            negated = true;
            i++;
        }

        var ranges = new List<(char, char)>();
        while (i < pattern.Length && pattern[i] != ']')
        {
            var c = pattern[i];
            if (c == '\\' && i + 1 < pattern.Length)
            {
                ranges.Add((pattern[i + 1], pattern[i + 1]));
                i += 2;
            }
            else if (i + 2 < pattern.Length && pattern[i + 1] == '-' && pattern[i + 2] != ']')
            {
                var (low, high) = (c, pattern[i + 2]);
                ranges.Add(low <= high ? (low, high) : (high, low));
                i += 3;
            }
            else
            {
                ranges.Add((c, c));
                i++;
            }
        }

        tokens.Add(new Token(TokenKind.Set, default, [.. ranges], negated));

        // i is at ']' (consumed by the caller's loop increment) or past the end
        return i;
    }

    /// <summary>Whether <paramref name="key"/> matches the whole pattern.</summary>
    public bool IsMatch(ReadOnlySpan<char> key)
    {
        var tokens = _tokens;
        int t = 0, k = 0;
        int starToken = -1, starKey = 0;
        while (k < key.Length)
        {
            if (t < tokens.Length)
            {
                var token = tokens[t];
                if (token.Kind == TokenKind.AnyRun)
                {
                    starToken = t++;
                    starKey = k;
                    continue;
                }

                if (Matches(token, key[k]))
                {
                    t++;
                    k++;
                    continue;
                }
            }

            if (starToken < 0)
            {
                return false;
            }

            // let the last star absorb one more character and retry from there
            t = starToken + 1;
            k = ++starKey;
        }

        while (t < tokens.Length && tokens[t].Kind == TokenKind.AnyRun)
        {
            t++;
        }

        return t == tokens.Length;
    }

    private static bool Matches(in Token token, char c)
    {
        switch (token.Kind)
        {
            case TokenKind.Literal:
                return token.Literal == c;
            case TokenKind.AnyOne:
                return true;
            case TokenKind.Set:
                var inSet = false;
                foreach (var (low, high) in token.Ranges!)
                {
                    if (c >= low && c <= high)
                    {
                        inSet = true;
                        break;
                    }
                }

                return inSet != token.Negated;
            default:
                return false;
        }
    }

    /// <summary>Escapes every glob metacharacter of <paramref name="literal"/> (the key prefix in a SCAN MATCH).</summary>
    public static string Escape(string literal)
    {
        ArgumentNullException.ThrowIfNull(literal);
        if (literal.AsSpan().IndexOfAny("*?[]\\^") < 0)
        {
            return literal;
        }

        var builder = new StringBuilder(literal.Length + 8);
        foreach (var c in literal)
        {
            if (c is '*' or '?' or '[' or ']' or '\\' or '^')
            {
                builder.Append('\\');
            }

            builder.Append(c);
        }

        return builder.ToString();
    }
}
