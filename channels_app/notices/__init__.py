"""Status notices to residents: on the transitions they care about, a notice in their language
through the channel they can be reached on (e-mail, SMS, a letter, or a call by an agent), with
a copy to a representative who asked for one (docs/adr/0020-resident-notices.md)."""
