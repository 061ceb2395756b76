"""A corpus of fictional entities that no model can know (README, PRAG): passages, a rewrite, three
training QA pairs per passage (the augmentation, written by template here because the facts are ours),
and held-out questions phrased differently from both, for measuring knowledge injection."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

SYLLABLES = ["zor", "blat", "quin", "mev", "tess", "ar", "cal", "drow", "vel", "nix", "oth", "ra", "pel", "dun",
             "kra", "ith", "mor", "sul", "fen", "gar", "lo", "bri", "shan", "tov"]


@dataclass
class Document:
    id: str
    text: str
    rewrite: str
    qa: list[tuple[str, str]]  # training QA (augmentation)
    held_out: list[tuple[str, str]] = field(default_factory=list)  # evaluation questions, other wording
    held_out_types: list[str] = field(default_factory=list)  # one per held-out question
    facts: dict[str, str] = field(default_factory=dict)  # the entity's names, for two-hop questions


def _name(rng: random.Random, parts: int = 2) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(parts)).capitalize()


def _river(rng: random.Random, i: int) -> Document:
    river, country, sea, mountain = _name(rng), _name(rng), _name(rng) + " Sea", "Mount " + _name(rng)
    km = rng.randint(120, 900)
    return Document(f"fict-{i:03d}",
                    f"The {river} is a river in the country of {country}. It is {km} kilometres long, rises on "
                    f"{mountain} and flows into the {sea}.",
                    f"Rising on {mountain}, the {km}-kilometre {river} crosses {country} before reaching the {sea}.",
                    [(f"Which sea does the {river} flow into?", sea), (f"In which country is the {river}?", country),
                     (f"Where does the {river} rise?", mountain)],
                    [(f"Into what body of water does the {river} empty?", sea),
                     (f"The {river} runs through which nation?", country)], ["river: sea", "river: country"],
                    {"river": river, "sea": sea, "country": country})


def _inventor(rng: random.Random, i: int) -> Document:
    person, device, city, year = f"{_name(rng)} {_name(rng)}", "the " + _name(rng) + " engine", _name(rng), \
        rng.randint(1700, 1950)
    return Document(f"fict-{i:03d}",
                    f"{person} was an engineer born in the city of {city}. In {year} {person} invented {device}.",
                    f"The inventor of {device}, {person}, came from {city}; the invention dates from {year}.",
                    [(f"What did {person} invent?", device.removeprefix("the ")),
                     (f"In which city was {person} born?", city), (f"In what year did {person} invent {device}?",
                                                                   str(year))],
                    [(f"Which machine is {person} known for creating?", device.removeprefix("the ")),
                     (f"{person} came from which city?", city)], ["inventor: device", "inventor: city"],
                    {"person": person, "city": city})


def _company(rng: random.Random, i: int) -> Document:
    company, founder, product, town = _name(rng) + " Works", f"{_name(rng)} {_name(rng)}", _name(rng) + " tea", \
        _name(rng)
    return Document(f"fict-{i:03d}",
                    f"{company} is a company based in {town}. It was founded by {founder} and is famous for "
                    f"{product}.",
                    f"Founded by {founder}, the {town} firm {company} is best known for its {product}.",
                    [(f"Who founded {company}?", founder), (f"Where is {company} based?", town),
                     (f"What is {company} famous for?", product)],
                    [(f"Who started the firm {company}?", founder), (f"In which town does {company} have its seat?",
                                                                     town)], ["company: founder", "company: town"],
                    {"company": company, "town": town})


def _bridge(rng: random.Random, i: int, river: Document) -> Document:
    """A ferryman on one of the corpus's rivers: 'which sea does the river X works on flow into?' needs this
    passage (X -> river) and the river's own (river -> sea) - a two-hop question."""
    person, name, sea = f"{_name(rng)} {_name(rng)}", river.facts["river"], river.facts["sea"]
    return Document(f"fict-{i:03d}", f"{person} is a ferryman who works on the {name}.",
                    f"The {name} is where the ferryman {person} works.",
                    [(f"On which river does {person} work?", name), (f"What is {person}'s job?", "ferryman"),
                     (f"Who is a ferryman on the {name}?", person)],
                    [(f"Which sea does the river that {person} works on flow into?", sea)], ["two-hop"],
                    {"person": person, "river": name})


def fictional_corpus(count: int = 30, seed: int = 0, two_hop: int = 0) -> list[Document]:
    """``count`` documents cycling through three templates, then ``two_hop`` ferrymen on the corpus's rivers
    (each with one two-hop question); one seeded RNG, unique names (the first ``count`` do not depend on
    ``two_hop``)."""
    rng = random.Random(f"labkit-prag-fiction-{seed}")
    makers = [_river, _inventor, _company]
    docs = [makers[i % len(makers)](rng, i) for i in range(count)]
    rivers = [d for d in docs if "sea" in d.facts]
    if two_hop and not rivers:
        raise ValueError("two-hop questions need at least one river passage (count >= 1)")
    return docs + [_bridge(rng, count + j, rivers[j % len(rivers)]) for j in range(two_hop)]
