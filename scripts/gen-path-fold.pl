#!/usr/bin/env perl
# Writes src/path_fold.rs, the Unicode tables of the canonical path's
# folding rule (see src/path.rs), from Perl's Unicode Character Database.
# Usage: perl scripts/gen-path-fold.pl > src/path_fold.rs
use strict;
use warnings;
use Unicode::UCD qw(prop_invlist);

sub ranges {
    my @l = @_;
    my @r;
    for (my $i = 0; $i < @l; $i += 2) {
        push @r, [$l[$i], $i + 1 < @l ? $l[$i + 1] - 1 : 0x10FFFF];
    }
    return @r;
}

my %refused;
for my $p ("NFKC_QC=N", "NFKC_QC=M", "Default_Ignorable_Code_Point", "White_Space", "gc=Cn") {
    for my $r (ranges(prop_invlist($p))) {
        for my $c ($r->[0] .. $r->[1]) { $refused{$c} = 1 if $c >= 0x80; }
    }
}
my @refused;
for my $c (sort { $a <=> $b } keys %refused) {
    if (@refused && $refused[-1] == $c) { $refused[-1] = $c + 1 } else { push @refused, $c, $c + 1 }
}
my @combining;
my $next = 0;
for my $r (ranges(prop_invlist("ccc=0"))) {
    push @combining, $next, $r->[0] if $r->[0] > $next;
    $next = $r->[1] + 1;
}
push @combining, $next, 0x110000 if $next <= 0x10FFFF;

sub table {
    my ($name, $doc, @l) = @_;
    my $s = $doc . "pub(crate) const $name: [u32; " . scalar(@l) . "] = [\n";
    my $line = "   ";
    for my $v (@l) {
        my $item = sprintf(" 0x%X,", $v);
        if (length($line) + length($item) > 99) { $s .= "$line\n"; $line = "   "; }
        $line .= $item;
    }
    return "$s$line\n];\n";
}

my $version = Unicode::UCD::UnicodeVersion();
print <<"END";
//! Generated tables for [`crate::path`]'s Unicode rule: which code points
//! a path segment may not hold because an origin may read them as another
//! text. Generated from the Unicode Character Database $version (Perl's
//! `Unicode::UCD`) by `scripts/gen-path-fold.pl`; checked against ICU4X's
//! normaliser (a newer Unicode) by `path_tests`.
//!
//! Pure data. Invariant: each table is an inversion list (sorted
//! boundaries; a code point is in the set when an odd number of
//! boundaries are at or below it).

END
print table("REFUSED", <<"END", @refused);
/// Non-ASCII code points refused anywhere in a decoded segment: those
/// NFKC may change (`NFKC_Quick_Check` = No or Maybe: fullwidth and
/// halfwidth forms, ligatures, compatibility spaces, superscripts,
/// composing marks, ...), default-ignorable ones (zero-width and format
/// characters, variation selectors, tags), white space (U+0085, U+00A0,
/// U+1680, U+2000-U+200A, U+2028, U+2029, U+202F, U+205F, U+3000), and
/// every code point unassigned in Unicode $version (a later version may give
/// it a compatibility mapping; assigned mappings never change).
END
print "\n";
print table("COMBINING", <<"END", @combining);
/// Code points whose canonical combining class is not 0: two in a row may
/// be reordered by normalisation, so a segment may not hold two adjacent.
END
