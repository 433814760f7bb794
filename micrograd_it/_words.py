"""A built-in short list of 478 common English first names (lowercase a-z), for tests and tiny demos.

Written for this project as one whitespace-separated string; `SHORT_NAMES` is the
list, each name once, in the order written. The character model's real data is
makemore's names.txt (`micrograd_it.data.load_names()`).
"""

__all__ = ["SHORT_NAMES"]

_NAMES = """
emma olivia ava isabella sophia mia charlotte amelia harper evelyn abigail emily elizabeth sofia
avery ella madison scarlett victoria aria grace chloe camila penelope riley layla lillian nora zoey
mila aubrey hannah lily addison eleanor natalie luna savannah brooklyn leah zoe stella hazel ellie
paisley audrey skylar violet claire bella aurora lucy anna samantha caroline genesis aaliyah
kennedy kinsley allison maya sarah madelyn adeline alexa ariana elena gabriella naomi alice sadie
hailey eva emilia autumn quinn nevaeh piper ruby serenity willow everly cora kaylee lydia aubree
arianna eliana peyton melanie gianna isabelle julia valentina nova clara vivian reagan mackenzie
madeline brielle delilah isla rylee katherine sophie josephine ivy liliana jade maria taylor hadley
kylie emery adalynn natalia annabelle faith alexandra ximena ashley brianna raelynn bailey mary
athena andrea leilani jasmine lyla margaret alyssa adalyn arya norah khloe kayla eden eliza rose
ariel melody alexis isabel sydney juliana lauren iris emerson london morgan lilly charlie aliyah
valeria arabella sara finley trinity ryleigh jordyn jocelyn kimberly esther molly valerie cecilia
anastasia daisy reese laila mya amy teagan amaya elise harmony paige adaline fiona alaina nicole
genevieve lucia alina mckenzie callie payton eloise brooke londyn mariah julianna rachel daniela
gracie catherine angelina presley josie liam noah william james logan benjamin mason elijah oliver
jacob lucas michael alexander ethan daniel matthew aiden henry joseph jackson samuel sebastian
david carter wyatt jayden john owen dylan luke gabriel anthony isaac grayson jack julian levi
christopher joshua andrew lincoln mateo ryan jaxon nathan aaron isaiah thomas charles caleb josiah
christian hunter eli jonathan connor landon adrian asher cameron leo theodore jeremiah hudson
robert easton nolan nicholas ezra colton angel brayden jordan dominic austin ian adam elias jaxson
greyson jose ezekiel carson evan maverick bryson jace cooper xavier parker roman jason santiago
chase sawyer gavin leonardo kayden ayden jameson kevin bentley zachary everett axel tyler micah
vincent weston miles wesley nathaniel harrison brandon cole declan luis braxton damian silas
tristan ryder bennett george emmett justin kai max diego luca ryker carlos maxwell kingston ivan
maddox juan ashton jayce rowan kaiden giovanni eric jesus calvin abel king camden amir blake alex
brody malachi emmanuel jonah beau jude antonio alan elliott elliot waylon xander timothy victor
bryce finn brantley edward abraham patrick grant karter hayden richard miguel joel gael tucker
rhett steven graham kaleb jasper jesse matteo dean zayden preston august oscar jeremy alejandro
marcus dawson lorenzo messiah zion maximus river zane mark brooks nicolas paxton judah emiliano
kaden bryan kyle myles peter kyrie thiago brian kenneth andres lukas aidan jax caden milo paul
beckett brady colin omar bradley javier knox jaden barrett israel matias jorge zander derek josue
cayden holden griffin arthur leon felix remington jake killian clayton sean adriel archer legend
erick enzo corbin francisco dallas emilio gunner simon andre walter damien chance phoenix colt
tanner stephen kameron tobias manuel amari zayn cash martin rafael ace
"""

SHORT_NAMES = _NAMES.split()
