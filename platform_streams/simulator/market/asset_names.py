"""Real asset names the simulated universe is built from, with reference prices for the well-known ones.

Names come from Binance's 2021 exchangeInfo capture (leveraged tokens left out)
plus assets listed since. Reference prices are round figures of the right order
of magnitude; assets without one get a seeded lognormal price.
"""

from __future__ import annotations

from typing import Final

#: USD reference prices of the majors (round figures: only the order of magnitude matters).
REFERENCE_USD_PRICES: Final[dict[str, float]] = {
    "BTC": 60_000.0,
    "ETH": 3_000.0,
    "BNB": 550.0,
    "SOL": 150.0,
    "XRP": 0.55,
    "ADA": 0.45,
    "DOGE": 0.12,
    "DOT": 6.5,
    "LTC": 75.0,
    "LINK": 14.0,
    "AVAX": 30.0,
    "MATIC": 0.7,
    "TRX": 0.12,
    "BCH": 400.0,
    "ETC": 25.0,
    "XLM": 0.1,
    "ATOM": 8.0,
    "UNI": 9.0,
    "FIL": 5.0,
    "NEAR": 5.5,
    "AAVE": 100.0,
    "MKR": 2_500.0,
    "XMR": 160.0,
    "ZEC": 30.0,
    "DASH": 28.0,
    "COMP": 55.0,
    "YFI": 6_500.0,
    "PAXG": 2_300.0,
    "WBTC": 60_000.0,
    "SHIB": 0.00002,
    "PEPE": 0.00001,
    "BONK": 0.00002,
    "FLOKI": 0.00015,
    "BTT": 0.000001,
    "WIN": 0.0001,
    "ARB": 1.0,
    "OP": 2.0,
    "APT": 8.0,
    "SUI": 1.2,
    "INJ": 25.0,
    "TIA": 8.0,
    "SEI": 0.5,
}

#: Stablecoins: priced at one US dollar with a tiny noise.
STABLECOINS: Final[tuple[str, ...]] = ("USDT", "USDC", "FDUSD", "TUSD", "DAI", "USDP")

#: Fiat currencies that appear as quote assets, with their USD value.
FIAT_USD_PRICES: Final[dict[str, float]] = {
    "USD": 1.0,
    "EUR": 1.08,
    "GBP": 1.27,
    "AUD": 0.66,
    "CAD": 0.73,
    "JPY": 0.0067,
    "TRY": 0.031,
    "BRL": 0.18,
    "ZAR": 0.054,
    "PLN": 0.25,
    "ARS": 0.0011,
    "MXN": 0.058,
}

#: Crypto assets ordered roughly by how widely they are listed (earlier = more pairs, more activity).
CRYPTO_ASSETS: Final[tuple[str, ...]] = tuple(
    dict.fromkeys(
        (
            "BTC ETH BNB SOL XRP ADA DOGE DOT LTC LINK AVAX MATIC TRX BCH ETC XLM ATOM UNI FIL NEAR AAVE SHIB PEPE ARB OP APT SUI "
            "INJ TIA SEI MKR XMR ZEC DASH COMP YFI PAXG WBTC BONK FLOKI BTT WIN SXP EOS ENJ VET CHZ NEO RUNE CAKE AXS WAVES ZIL "
            "THETA HOT ARPA GRT IOTA IOST ONT ZEN SC RVN FTM ALGO WRX STMX LUNA SUSHI KSM EGLD ICP C98 QTUM BNT LRC OMG ZRX KNC "
            "XVG MTL BAT LSK MANA ICX ELF RLC NANO XEM IOTX DATA FET CELR ONE XTZ HBAR STX KAVA FTT OGN COTI CTSI CHR DGB SNX FIO "
            "AVA SRM ANT SAND OCEAN NMR RSR YFII BEL BAKE XVS ALPHA CTK HARD STRAX FIS ALICE TKO TLM AR POLS MDX LPT NU ATA GTC "
            "TORN KEEP KLAY BOND MLN QUICK CLV QNT FLOW MINA FARM ALPACA MBOX WAXP TRIBE GNO DYDX GALA ILV YGG FIDA AGLD RAD BETA "
            "RARE FUN DNT BTG KMD GXS ADX AION BLZ WAN SYS REP CVC MFT DENT DOCK POLY MITH REN ANKR COS TOMO PERL BAND LTO STPT "
            "HIVE BAL JST CRV IDEX TRB BZRX DIA WING HNT BURGER FLM ORN UTK VIDT AUDIO SLP CVP FOR UNFI FRONT ROSE PROM SKL GHST "
            "JUV PSG 1INCH REEF ATM BTCST TRU DEXE CKB TWT FIRO LIT SFP DODO ACM PHA TVK BADGER OM POND DEGO LINA PERP RAMP SUPER "
            "CFX EPS AUTO MIR BAR FORTH MASK ERN RAY SNT WTC REQ VIB POWR STORJ NULS CDT QSP BTS WABI GTO NEBL BRD PIVX STEEM QLC "
            "LOOM QKC KEY NAS ARDR DCR ONG PHB TFUEL DUSK COCOS BEAM NKN CTXC TROY VITE DREP TCT MBL MDT IQ PNT VTHO IRIS WNXM UMA "
            "CREAM OXT SUN SCRT AERGO AKRO KP3R HEGIC GLM DF OG ASR CELO RIF FXS UFT AUCTION PUNDIX EZ XEC VGX GAS YOYO SNM MDA "
            "MTH AST OAX EVX ARK RDN DLT AMB GVT BCD CND NAV APPC NCASH POA GRS SKY NXS GO NBS SPARTA RENBTC SUSD BETH PROS BIFI "
            "AGIX LDO IMX RNDR GMX BLUR JUP PYTH STRK WIF JTO DYM MANTA ALT PIXEL PORTAL AEVO ETHFI ENA W SAGA TNSR OMNI REZ BB "
            "NOT IO ZK LISTA ZRO BANANA RENDER TON POL EIGEN SCR LUMIA COW CETUS PNUT ACT THE USUAL MOVE ME VANA PENGU BIO "
            "SONIC ANIME TRUMP VIRTUAL KAITO LAYER BERA SHELL GPS RED IP ORCA WLD SSV HIGH HOOK MAGIC GLMR ASTR ACH API3 ANC "
            "BICO CVX ENS GAL GMT KDA LOKA MC MOVR NEXO OSMO PEOPLE PLA PYR SANTO SPELL STG T UNFI VOXEL WOO XNO ACA AMP APE "
            "ARKM AXL BSW CYBER EDU FXS ID JOE LQTY MAV NTRN PDA PENDLE POLYX RDNT RPL SYN TRU UMA USTC VANRY WLD XAI ZETA"
        ).split()
    )
)
